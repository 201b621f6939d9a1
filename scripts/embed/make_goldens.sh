#!/usr/bin/env bash
# Regenerates embed/testdata/golden/: reference embeddings of the tiny retriever for the test pages and
# queries, computed by scripts/embed/reference.mjs (onnxruntime-node) from the inputs that
# `colsmol embed --inputs-only` writes. The Go tests compare against these files; CI never runs this.
#
#   scripts/embed/make_goldens.sh              # builds ./cmd/colsmol
#   COLSMOL_BIN=path/to/colsmol scripts/embed/make_goldens.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
model=testdata/models/tiny-colsmol
golden=embed/testdata/golden
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd scripts/embed && [ -d node_modules/onnxruntime-node ] || ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
bin=${COLSMOL_BIN:-$work/colsmol}
[ -n "${COLSMOL_BIN:-}" ] || go build -o "$bin" ./cmd/colsmol
mkdir -p "$golden"

one() { # name, then the colsmol embed flags
  local name=$1
  shift
  "$bin" --model "$model" embed "$@" --inputs-out "$work/$name" --inputs-only -q
  node scripts/embed/reference.mjs "$model" "$work/$name" "$golden/$name.npy"
  cp "$work/$name/input_ids.npy" "$golden/$name.input_ids.npy"
}

for page in embed/testdata/pages/*.png; do
  one "page_$(basename "$page" .png)" --image "$page"
done
# Keep in step with goldenQueries in embed/embed_test.go.
one query_revenue --query "quarterly revenue table"
one query_cat --query "a photo of a cat"
one query_empty --query ""
