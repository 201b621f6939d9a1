package vidore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Hugging Face writes columns whose values are all None (docvqa's "answer", "question_types") with the
// Arrow null type: an optional INT32 leaf with the UNKNOWN (null) logical type. The loader must read the
// table and ignore them.
func TestLoadQA_IgnoresNullTypedColumns(t *testing.T) {
	dir := t.TempDir()
	schema := parquet.NewSchema("schema", parquet.Group{
		"query":          parquet.Optional(parquet.String()),
		"question_types": parquet.Optional(parquet.Leaf(parquet.NullType)),
		"image": parquet.Optional(parquet.Group{
			"bytes": parquet.Optional(parquet.Leaf(parquet.ByteArrayType)),
			"path":  parquet.Optional(parquet.String()),
		}),
		"image_filename": parquet.String(),
		"answer":         parquet.Optional(parquet.Leaf(parquet.NullType)),
	})
	path := filepath.Join(dir, "data", "test-00000-of-00001.parquet")
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewWriter(f, schema)
	for i, q := range []any{"q1", nil, "q1"} {
		row := map[string]any{
			"query": q, "question_types": nil, "answer": nil,
			"image":          map[string]any{"bytes": pngOf(t, i), "path": nil},
			"image_filename": []string{"a.png", "b.png", "c.png"}[i],
		}
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ds, err := LoadQA(dir, "nulls", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Queries) != 1 || len(ds.Passages) != 3 || ds.Qrels["q1"]["c.png"] != 1 {
		t.Errorf("queries %v passages %d qrels %v", ds.Queries, len(ds.Passages), ds.Qrels)
	}
	pf, _ := os.Open(path)
	defer pf.Close()
	st, _ := pf.Stat()
	file, err := parquet.OpenFile(pf, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := file.Schema().Lookup("answer")
	if lt := leaf.Node.Type().LogicalType(); lt == nil || lt.String() != (&format.NullType{}).String() {
		t.Errorf("the test file's answer column is %v, not the null logical type", leaf.Node.Type())
	}
}
