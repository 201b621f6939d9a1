package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedSamplesMatch regenerates the sample documents and checks that examples/docs holds exactly
// what this script writes (the script is the only source of those files), and that they stay small.
func TestCommittedSamplesMatch(t *testing.T) {
	out := t.TempDir()
	if err := generate(out, io.Discard); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", "examples", "docs")
	files, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		want, err := os.ReadFile(filepath.Join(out, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(committed, f.Name()))
		if err != nil {
			t.Errorf("%s is not committed: %v", f.Name(), err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("examples/docs/%s differs from what scripts/examples writes; run `go run ./scripts/examples`", f.Name())
		}
		total += len(got)
	}
	if len(files) != 5 || total > 1<<20 {
		t.Errorf("%d files, %d bytes", len(files), total)
	}
}
