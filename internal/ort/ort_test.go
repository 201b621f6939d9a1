package ort

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// realLibrary returns the ONNX Runtime 1.24.3 library for tests: $ONNXRUNTIME_LIB or lib/ at the
// repository root. It returns "" when neither exists.
func realLibrary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if root := repoRoot(t); root != "" {
		p := filepath.Join(root, "lib", "libonnxruntime.so.1.24.3")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// repoRoot finds the folder holding go.mod above the working directory.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// mustInit starts ONNX Runtime for a test, skipping only when the library is truly missing.
func mustInit(t testing.TB) {
	t.Helper()
	_, err := Init("")
	if errors.Is(err, ErrNoLibrary) {
		lib := realLibrary(t)
		if lib == "" {
			t.Skip("ONNX Runtime library not found; run `make ort`")
		}
		_, err = Init(lib)
	}
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
}
