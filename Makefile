# colsmol: build, fetch ONNX Runtime, test, benchmark and demo.
# Every target works on a fresh machine: `make demo` and `make test` fetch what they need.

GO        ?= go
ORT_VER   := 1.24.3
ORT_LIB   := lib/libonnxruntime.so.$(ORT_VER)
BIN       := bin/colsmol
MODEL     ?= colsmol-256m
DB        ?= build/demo.db
export ONNXRUNTIME_LIB ?= $(CURDIR)/$(ORT_LIB)

PY        ?= /usr/bin/python3

.PHONY: all build ort test bench benchmodels demo clean testmodels goldens

all: build

build:
	$(GO) build -o $(BIN) ./cmd/colsmol

# ONNX Runtime ships inside the npm package onnxruntime-node; take the Linux x64 library out of it.
ort: $(ORT_LIB)
$(ORT_LIB):
	@mkdir -p lib build/ort
	cd build/ort && npm pack --silent onnxruntime-node@$(ORT_VER) >/dev/null
	tar -xzf build/ort/onnxruntime-node-$(ORT_VER).tgz -C build/ort package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	cp build/ort/package/bin/napi-v6/linux/x64/libonnxruntime.so.1 $(ORT_LIB).tmp && mv $(ORT_LIB).tmp $(ORT_LIB)
	ln -sf libonnxruntime.so.$(ORT_VER) lib/libonnxruntime.so.1
	rm -rf build/ort

test: ort
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# Full-size random-weight models for the speed benchmarks (speed does not depend on weight values; not
# committed: about 3 GB together). Each is built once.
BENCH_MODELS := build/models/colsmol-256m-random build/models/colsmol-256m-random-int8 build/bench-smolvlm build/bench-smolvlm-int8
build/models/colsmol-256m-random:
	./$(BIN) -q model convert --random --preset colsmol-256m --seed 1 --out $@
build/models/colsmol-256m-random-int8:
	./$(BIN) -q model convert --random --preset colsmol-256m --seed 1 --precision int8 --out $@
build/bench-smolvlm:
	./$(BIN) -q model convert --random --preset smolvlm-256m-instruct --seed 1 --out $@
build/bench-smolvlm-int8:
	./$(BIN) -q model convert --random --preset smolvlm-256m-instruct --seed 1 --precision int8 --out $@
benchmodels: build $(BENCH_MODELS)

# Every benchmark once, printing its figures (about half an hour on 2 cores); BENCH=regexp picks some,
# e.g. make bench BENCH=BenchmarkSearch. -v keeps every figure a benchmark logs (go test cuts them at 10 lines).
BENCH ?= .
bench: ort build benchmodels
	COLSMOL_BENCH_MODEL=$(CURDIR)/build/models/colsmol-256m-random \
	COLSMOL_BENCH_MODEL_INT8=$(CURDIR)/build/models/colsmol-256m-random-int8 \
	COLSMOL_BENCH_SMOLVLM=$(CURDIR)/build/bench-smolvlm COLSMOL_BENCH_SMOLVLM_INT8=$(CURDIR)/build/bench-smolvlm-int8 \
	$(GO) test -v -run '^$$' -bench '$(BENCH)' -benchtime 1x -timeout 90m ./...

demo: ort build
	@rm -f $(DB)
	@mkdir -p build
	./$(BIN) --db $(DB) --model $(MODEL) index examples/docs
	./$(BIN) --db $(DB) --model $(MODEL) search --k 3 "quarterly revenue table"
	./$(BIN) --db $(DB) --model $(MODEL) search --k 3 "a drawing of a cat"

# The committed tiny test models, rebuilt byte for byte from seeded random weights.
testmodels:
	./scripts/modelbuild/make-test-models.sh

# Golden files from the independent references (Pillow, NumPy, PyTorch, the Hugging Face tokenizers library,
# onnxruntime-node, transformers.js). Tests only read the committed results; CI never runs this.
# Needs Debian python3-pil python3-numpy python3-torch libjpeg-turbo-progs, node and npm.
goldens: ort
	cd scripts/tokenizer && npm ci --no-audit --no-fund
	node scripts/tokenizer/train.js && node scripts/tokenizer/goldens.js
	$(PY) scripts/goldens/vlm/images.py
	$(PY) scripts/goldens/vlm/npy_goldens.py
	$(PY) scripts/modelbuild/reference.py
	$(PY) scripts/bench/make_maxsim_goldens.py
	./scripts/embed/make_goldens.sh
	cd scripts/generate && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
	sh scripts/generate/make-goldens.sh
	@echo "eval/vidore goldens need a trec_eval binary: see scripts/eval/README.md"

clean:
	rm -rf bin build lib
