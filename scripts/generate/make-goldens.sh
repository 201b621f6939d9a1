#!/bin/sh
# Makes generate/testdata/parity/goldens.json: transformers.js greedy ids for the cases of
# generate/testdata/parity/cases.json, from the exact inputs colsmol builds for them.
#   1. colsmol (Go, internal/vlm) writes each case's input_ids / pixel_values as .npy (`ask --inputs-out`);
#   2. transformers.js 4.3.2 (scripts/generate/parity.mjs) runs generate() on those inputs.
# Run from the repository root after `make ort`:  sh scripts/generate/make-goldens.sh
# Needs node and `cd scripts/generate && ONNXRUNTIME_NODE_INSTALL=skip npm ci` (node_modules is not committed).
set -eu
MODEL=testdata/models/tiny-smolvlm
CASES=generate/testdata/parity/cases.json
OUT=generate/testdata/parity/goldens.json
IMAGES=generate/testdata/images
: "${ONNXRUNTIME_LIB:=$PWD/lib/libonnxruntime.so.1.24.3}"
export ONNXRUNTIME_LIB
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/colsmol" ./cmd/colsmol
# One line per case: name, question, images (tab-separated).
node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));for(const c of s.cases)console.log([c.name,c.question,...c.images].join("\t"))' "$CASES" |
while IFS="$(printf '\t')" read -r name question images; do
	set --
	for img in $images; do set -- "$@" --image "$IMAGES/$img"; done
	"$tmp/colsmol" --generator "$MODEL" --threads 1 ask "$@" --inputs-out "$tmp/in/$name" --max-new-tokens 1 --json -- "$question" >/dev/null
done
node scripts/generate/parity.mjs "$MODEL" "$CASES" "$tmp/in" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT"
