# colsmol: build, fetch ONNX Runtime, test, benchmark and demo.
# Every target works on a fresh machine: `make demo` and `make test` fetch what they need.

GO        ?= go
ORT_VER   := 1.24.3
ORT_LIB   := lib/libonnxruntime.so.$(ORT_VER)
BIN       := bin/colsmol
MODEL     ?= colsmol-256m
DB        ?= build/demo.db
export ONNXRUNTIME_LIB ?= $(CURDIR)/$(ORT_LIB)

.PHONY: all build ort test bench demo clean testmodels goldens

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

bench: ort build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

demo: ort build
	@rm -f $(DB)
	@mkdir -p build
	./$(BIN) --db $(DB) --model $(MODEL) index examples/docs
	./$(BIN) --db $(DB) --model $(MODEL) search --k 3 "quarterly revenue table"
	./$(BIN) --db $(DB) --model $(MODEL) search --k 3 "a drawing of a cat"

clean:
	rm -rf bin build lib
