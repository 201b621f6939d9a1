package vidore

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCache_PersistsPerModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "cache.db")
	c, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := PageKey([]byte("page one")), PageKey([]byte("page two"))
	v1 := [][]float32{{1, 2, 3}, {-4, 5.5, 1e-30}}
	if err := c.PutPages("model-a", [][32]byte{k1}, [][][]float32{v1}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutQueries("model-a", [][32]byte{QueryKey("q")}, [][][]float32{{{7, 8, 9}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Pages("model-a", [][32]byte{k2, k1})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != nil || !reflect.DeepEqual(got[1], v1) {
		t.Errorf("pages read back as %v", got)
	}
	other, _ := c.Pages("model-b", [][32]byte{k1})
	if other[0] != nil {
		t.Error("another model's embedding was returned")
	}
	q, _ := c.Queries("model-a", [][32]byte{QueryKey("q"), k1})
	if !reflect.DeepEqual(q[0], [][]float32{{7, 8, 9}}) || q[1] != nil {
		t.Errorf("queries read back as %v (pages and queries must not mix)", q)
	}

	// A second process cannot open it while this one holds it.
	if _, err := OpenCache(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second open: %v, want an in-use error", err)
	}
}

func TestModelIdentity(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.json", []byte(`{"a":1}`))
	big := make([]byte, 6<<20)
	write("onnx/model.onnx", big)
	id1, err := ModelIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ModelIdentity(dir); again != id1 {
		t.Error("identity is not stable")
	}
	if opt, _ := ModelIdentity(dir, "image-tokens-only"); opt == id1 {
		t.Error("an option does not change the identity")
	}
	// A copy elsewhere has the same identity.
	cp := t.TempDir()
	os.MkdirAll(filepath.Join(cp, "onnx"), 0o755)
	os.WriteFile(filepath.Join(cp, "config.json"), []byte(`{"a":1}`), 0o644)
	os.WriteFile(filepath.Join(cp, "onnx", "model.onnx"), big, 0o644)
	if c, _ := ModelIdentity(cp); c != id1 {
		t.Error("a copy of the model has another identity")
	}
	// Changing the config or the end of the graph changes it.
	write("config.json", []byte(`{"a":2}`))
	id2, _ := ModelIdentity(dir)
	big[len(big)-1] = 1
	write("onnx/model.onnx", big)
	id3, _ := ModelIdentity(dir)
	if id2 == id1 || id3 == id2 {
		t.Errorf("identities %s %s %s should all differ", id1, id2, id3)
	}
}
