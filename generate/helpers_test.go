package generate

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
)

// repoRoot returns the module root, found from this file's location.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// tinyDir is the committed tiny generator (built by internal/modelbuild).
func tinyDir() string { return filepath.Join(repoRoot(), "testdata", "models", "tiny-smolvlm") }

// needORT loads ONNX Runtime, skipping the test only when the library is truly missing.
func needORT(t testing.TB) {
	t.Helper()
	if _, err := ort.Init(""); err != nil {
		if errors.Is(err, ort.ErrNoLibrary) {
			t.Skipf("ONNX Runtime library not available: %v (run `make ort`)", err)
		}
		t.Fatal(err)
	}
}

// openTiny opens the tiny generator with one thread and the given options.
func openTiny(t testing.TB, o Options) *Generator {
	t.Helper()
	needORT(t)
	o.Threads = 1
	g, err := Open(tinyDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// loadImage decodes a test image as the generator's front doors do (alpha composited on white).
func loadImage(t testing.TB, path string) *vlm.RGB {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := vlm.DecodeImage(b, vlm.AlphaWhite)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// chatInputs builds the chat inputs for question about the named images of testdata/images.
func chatInputs(t testing.TB, g *Generator, question string, images ...string) *vlm.Inputs {
	t.Helper()
	imgs := make([]*vlm.RGB, len(images))
	for i, name := range images {
		imgs[i] = loadImage(t, filepath.Join(repoRoot(), "generate", "testdata", "images", name))
	}
	in, err := g.Processor().Chat(imgs, question)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// copyTiny copies the tiny generator into a temporary folder (onnx/ linked), letting edit change each file.
func copyTiny(t testing.TB, edit func(name string, b []byte) []byte) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(tinyDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src := filepath.Join(tinyDir(), e.Name())
		if e.IsDir() {
			if err := os.Symlink(src, filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), edit(e.Name(), b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
