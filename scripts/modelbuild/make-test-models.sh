#!/bin/sh
# Rebuilds the committed tiny test models from seeded random weights (same seed -> same bytes):
#   testdata/models/tiny-colsmol  retriever (vision_encoder, embed_tokens, text_embeddings)
#   testdata/models/tiny-smolvlm  generator (vision_encoder, embed_tokens, decoder_model_merged)
# Architecture: 512-px tiles, patch 16, pixel shuffle x4 -> 64 image tokens per tile; vision hidden 32,
# 2 layers, 2 heads; text hidden 32, 2 layers, 4 query / 2 KV heads, head_dim 8; vocab 49280 (the SmolVLM
# tokenizer of testdata/tokenizer, real special-token ids); embedding and lm_head tables stored as float16.
# Run from anywhere; it works in the repository root. Equivalent to, for each model:
#   go run ./cmd/colsmol model convert --random --preset tiny-colsmol --seed 1 --out testdata/models/tiny-colsmol
set -eu
cd "$(dirname "$0")/../.."
mkdir -p build testdata/models
go build -o build/colsmol-modelbuild ./cmd/colsmol
for m in tiny-colsmol tiny-smolvlm; do
	rm -rf "build/$m"
	./build/colsmol-modelbuild -q model convert --random --preset "$m" --seed 1 --tokenizer testdata/tokenizer --out "build/$m"
	rm -rf "testdata/models/$m"
	mv "build/$m" "testdata/models/$m"
done
date -u +%Y-%m-%dT%H:%M:%SZ > testdata/models/READY
