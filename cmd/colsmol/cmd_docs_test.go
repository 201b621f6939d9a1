package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/colsmol/colsmol/index"
)

// docsFixture writes an index with two documents and returns its path.
func docsFixture(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "docs.db")
	st, err := index.Open(db, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	vec := func(x float32) []float32 {
		v := make([]float32, 128)
		v[0], v[1] = x, 1-x
		return v
	}
	page := index.Page{Width: 10, Height: 20, Thumb: []byte("t"), Preview: []byte("p"), Vectors: [][]float32{vec(0.2), vec(0.7)}}
	for i, p := range []string{"/docs/a.pdf", "/docs/b.png"} {
		doc := index.Document{Path: p, SHA256: string(rune('a'+i)) + "00", IndexedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		if err := st.Put(doc, []index.Page{page, page}[:i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestDocsLs_JSON(t *testing.T) {
	db := docsFixture(t)
	out, err := runCmd(t, "--db", db, "--json", "docs", "ls")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Documents []map[string]any `json:"documents"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("docs ls --json printed %q: %v", out, err)
	}
	if len(got.Documents) != 2 {
		t.Fatalf("documents %v", got.Documents)
	}
	a := got.Documents[0]
	want := map[string]any{"doc_id": index.DocumentID("/docs/a.pdf"), "path": "/docs/a.pdf", "sha256": "a00", "pages": 1.0, "indexed_at": "2026-01-02T03:04:05Z"}
	if len(a) != len(want) {
		t.Fatalf("fields %v, want exactly %v", a, want)
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %v, want %v", k, a[k], v)
		}
	}
}

func TestDocsRm_ByIDAndPath(t *testing.T) {
	db := docsFixture(t)
	if _, err := runCmd(t, "--db", db, "docs", "rm", index.DocumentID("/docs/a.pdf")); err != nil {
		t.Fatal(err)
	}
	_, err := runCmd(t, "--db", db, "docs", "rm", "/docs/b.png", "/docs/nope.pdf")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitPartial {
		t.Fatalf("rm of one known and one unknown path: %v, want exit status %d", err, exitPartial)
	}
	out, err := runCmd(t, "--db", db, "--json", "docs", "ls")
	if err != nil || !bytes.Contains([]byte(out), []byte(`"documents": []`)) {
		t.Fatalf("after rm: %q, %v", out, err)
	}
	if _, err := runCmd(t, "--db", db, "docs", "rm", "/docs/nope.pdf"); !errors.As(err, &ee) || ee.code != exitNothing {
		t.Fatalf("rm of an unknown path: %v, want exit status %d", err, exitNothing)
	}
}

func TestDocsLs_NoIndex(t *testing.T) {
	_, err := runCmd(t, "--db", filepath.Join(t.TempDir(), "none.db"), "docs", "ls")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitNothing {
		t.Fatalf("docs ls without an index: %v, want exit status %d", err, exitNothing)
	}
}

func TestStats_JSON(t *testing.T) {
	db := docsFixture(t)
	c := newStatsCmd(&globalOptions{db: db, json: true})
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetArgs(nil)
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	var st index.Stats
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("stats --json printed %q: %v", out.String(), err)
	}
	if st.Documents != 2 || st.Pages != 3 || st.Vectors != 6 || st.VectorBytes != 6*128*2 || st.ResidentBytes <= 0 {
		t.Fatalf("stats %+v", st)
	}
}
