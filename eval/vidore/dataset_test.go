package vidore

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// Rows of the synthetic datasets, in the column layout Hugging Face datasets writes (the Image feature is
// the struct {bytes, path}).

type hfImage struct {
	Bytes []byte  `parquet:"bytes,optional"`
	Path  *string `parquet:"path,optional"`
}

type qaRow struct {
	Query         *string  `parquet:"query,optional"`
	Image         *hfImage `parquet:"image,optional"`
	ImageFilename string   `parquet:"image_filename"`
	Answer        *string  `parquet:"answer,optional"`
	Source        string   `parquet:"source"`
}

type corpusRow struct {
	CorpusID int64    `parquet:"corpus-id"`
	Image    *hfImage `parquet:"image,optional"`
}

type queryRow struct {
	QueryID  int64   `parquet:"query-id"`
	Query    *string `parquet:"query,optional"`
	Language string  `parquet:"language"`
}

type qrelRow struct {
	QueryID  int64 `parquet:"query-id"`
	CorpusID int64 `parquet:"corpus-id"`
	Score    int64 `parquet:"score"`
}

type qrelFloatRow struct {
	QueryID  int64   `parquet:"query-id"`
	CorpusID int64   `parquet:"corpus-id"`
	Score    float64 `parquet:"score"`
}

// writeParquet writes rows to path with snappy compression and row groups of 7 rows (several row groups and
// pages per file, as real datasets have).
func writeParquet[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(7))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeShards splits rows over n shards named like push_to_hub does: dir/<split>-0000i-of-0000n.parquet.
func writeShards[T any](t *testing.T, dir string, rows []T, n int) {
	t.Helper()
	per := (len(rows) + n - 1) / n
	for i := range n {
		lo, hi := min(i*per, len(rows)), min((i+1)*per, len(rows))
		writeParquet(t, filepath.Join(dir, fmt.Sprintf("test-%05d-of-%05d.parquet", i, n)), rows[lo:hi])
	}
}

// pngOf returns a small PNG whose colour is derived from seed, so that different pages have different bytes.
func pngOf(t testing.TB, seed int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 10, 10))
	for y := range 10 {
		for x := range 10 {
			img.Set(x, y, color.NRGBA{uint8(seed * 37), uint8(seed*11 + x), uint8(y * 20), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeQA writes a QA-layout dataset whose rows carry the given queries (nil = null) and filenames; the
// image of a row depends on its filename only.
func writeQA(t *testing.T, dir string, queries []*string, files []string, shards int) {
	t.Helper()
	rows := make([]qaRow, len(files))
	for i := range files {
		var seed int
		fmt.Sscanf(strings.TrimLeft(files[i], "abcdefghijklmnopqrstuvwxyz_"), "%d", &seed)
		name := files[i]
		rows[i] = qaRow{Query: queries[i], Image: &hfImage{Bytes: pngOf(t, seed), Path: &name}, ImageFilename: files[i], Source: "synthetic"}
		if i%3 == 0 {
			rows[i].Image.Path = nil // HF writes null paths for images given as bytes
		}
	}
	writeShards(t, filepath.Join(dir, "data"), rows, shards)
}

func TestLoadQA_DeduplicatesQueriesAndKeepsEveryRow(t *testing.T) {
	dir := t.TempDir()
	queries := []*string{ptr("q1"), ptr("q2"), ptr("q1"), nil, ptr(""), ptr("q3"), nil, ptr("q2")}
	files := []string{"p1.png", "p2.png", "p3.png", "p4.png", "p5.png", "p1.png", "p6.png", "p7.png"}
	writeQA(t, dir, queries, files, 3)

	ds, err := Load(dir, "vidore/tiny_qa", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Format != FormatQA || ds.Name != "vidore/tiny_qa" || !ds.IgnoreIdenticalIDs {
		t.Errorf("format %v name %q ignoreIdentical %v", ds.Format, ds.Name, ds.IgnoreIdenticalIDs)
	}
	var got []string
	for _, q := range ds.Queries {
		got = append(got, fmt.Sprintf("%s=%s=%s", q.RunID, q.ID, q.Text))
	}
	// Null queries dropped, first occurrences kept in order; "" is a query (Python keeps it).
	if want := "0=q1=q1 1=q2=q2 2== 3=q3=q3"; strings.Join(got, " ") != want {
		t.Errorf("queries %q, want %q", strings.Join(got, " "), want)
	}
	if len(ds.Passages) != len(files) {
		t.Fatalf("%d passages, want every row (%d)", len(ds.Passages), len(files))
	}
	for i, p := range ds.Passages {
		if p.DocID != files[i] {
			t.Errorf("passage %d is %s, want %s (row order across shards)", i, p.DocID, files[i])
		}
		if _, err := png.Decode(bytes.NewReader(p.Image)); err != nil {
			t.Errorf("passage %d image: %v", i, err)
		}
	}
	if !bytes.Equal(ds.Passages[0].Image, ds.Passages[5].Image) || bytes.Equal(ds.Passages[0].Image, ds.Passages[1].Image) {
		t.Error("image bytes are not those of the rows")
	}
	// The relevant page of a query is the filename of its LAST row.
	want := Qrels{"q1": {"p3.png": 1}, "q2": {"p7.png": 1}, "": {"p5.png": 1}, "q3": {"p1.png": 1}}
	if fmt.Sprint(ds.Qrels) != fmt.Sprint(want) {
		t.Errorf("qrels %v, want %v", ds.Qrels, want)
	}
	if err := ds.Validate(); err != nil {
		t.Error(err)
	}
}

func TestLoadQA_AllQueriesNull(t *testing.T) {
	dir := t.TempDir()
	writeQA(t, dir, []*string{nil, nil}, []string{"p1.png", "p2.png"}, 1)
	_, err := LoadQA(dir, "x", LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "no valid queries") {
		t.Errorf("error %v, want one about no valid queries", err)
	}
}

func TestLoad_RejectsFoldersThatAreNotDatasets(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, "x", LoadOptions{}); err == nil || !strings.Contains(err.Error(), "QA layout") {
		t.Errorf("empty folder: error %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing"), "x", LoadOptions{}); err == nil {
		t.Error("a missing folder was accepted")
	}
	// A QA table without its mandatory columns.
	type bare struct {
		Text string `parquet:"text"`
	}
	writeParquet(t, filepath.Join(dir, "data", "test-00000-of-00001.parquet"), []bare{{"a"}})
	if _, err := Load(dir, "x", LoadOptions{}); err == nil || !strings.Contains(err.Error(), `no column "query"`) {
		t.Errorf("table without query column: error %v", err)
	}
	// A file that is not parquet.
	os.WriteFile(filepath.Join(dir, "data", "test-00000-of-00001.parquet"), []byte("not parquet"), 0o644)
	if _, err := Load(dir, "x", LoadOptions{}); err == nil || !strings.Contains(err.Error(), "not a readable parquet file") {
		t.Errorf("garbage file: error %v", err)
	}
	// Another split is not read.
	if _, err := Load(dir, "x", LoadOptions{Split: "train"}); err == nil {
		t.Error("a missing split was accepted")
	}
}

// writeBEIR writes a BEIR-layout dataset with corpus ids 11, 10, 9 (string order differs from numeric order)
// and graded qrels, with int64 or float64 scores.
func writeBEIR(t *testing.T, dir string, floatScores bool) {
	t.Helper()
	corpus := []corpusRow{{11, &hfImage{Bytes: pngOf(t, 11)}}, {10, &hfImage{Bytes: pngOf(t, 10)}}, {9, &hfImage{Bytes: pngOf(t, 9)}}}
	writeShards(t, filepath.Join(dir, "corpus"), corpus, 2)
	writeShards(t, filepath.Join(dir, "queries"), []queryRow{
		{1, ptr("first query"), "english"}, {2, ptr("deuxième"), "french"}, {3, ptr("third"), "english"},
	}, 1)
	qrels := []qrelFloatRow{{1, 10, 2}, {1, 9, 1}, {2, 11, 1.0}, {3, 9, 0}, {3, 10, 1.9}, {1, 9, 3}}
	if floatScores {
		writeShards(t, filepath.Join(dir, "qrels"), qrels, 1)
		return
	}
	ints := make([]qrelRow, len(qrels))
	for i, r := range qrels {
		ints[i] = qrelRow{r.QueryID, r.CorpusID, int64(r.Score)}
	}
	writeShards(t, filepath.Join(dir, "qrels"), ints, 1)
}

func TestLoadBEIR_GradedQrelsIntOrFloat(t *testing.T) {
	for _, floats := range []bool{false, true} {
		t.Run(fmt.Sprintf("float=%v", floats), func(t *testing.T) {
			dir := t.TempDir()
			writeBEIR(t, dir, floats)
			ds, err := Load(dir, "local/beir", LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != FormatBEIR || ds.IgnoreIdenticalIDs {
				t.Errorf("format %v ignoreIdentical %v", ds.Format, ds.IgnoreIdenticalIDs)
			}
			var ids []string
			for _, p := range ds.Passages {
				ids = append(ids, p.DocID)
			}
			if strings.Join(ids, ",") != "11,10,9" {
				t.Errorf("corpus ids %v", ids)
			}
			var qs []string
			for _, q := range ds.Queries {
				qs = append(qs, q.ID+"="+q.RunID+"="+q.Text)
			}
			if strings.Join(qs, "|") != "1=1=first query|2=2=deuxième|3=3=third" {
				t.Errorf("queries %v", qs)
			}
			// The repeated pair (1, 9) takes its last grade; 1.9 is truncated to 1 as int() does.
			want := Qrels{"1": {"10": 2, "9": 3}, "2": {"11": 1}, "3": {"9": 0, "10": 1}}
			if fmt.Sprint(ds.Qrels) != fmt.Sprint(want) {
				t.Errorf("qrels %v, want %v", ds.Qrels, want)
			}
		})
	}
}

func TestLoadBEIR_LanguageFilter(t *testing.T) {
	dir := t.TempDir()
	writeBEIR(t, dir, false)
	ds, err := LoadBEIR(dir, "x", LoadOptions{Language: "english"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Queries) != 2 || ds.Queries[0].ID != "1" || ds.Queries[1].ID != "3" {
		t.Errorf("queries %v, want ids 1 and 3", ds.Queries)
	}
	if _, err := LoadBEIR(dir, "x", LoadOptions{Language: "klingon"}); err == nil {
		t.Error("a language no query has was accepted")
	}
}

func TestDataset_ValidateNamesQueriesWithoutJudgments(t *testing.T) {
	ds := &Dataset{Queries: []Query{{ID: "1", RunID: "1"}, {ID: "2", RunID: "2"}}, Qrels: Qrels{"1": {"a": 1}}}
	err := ds.Validate()
	if err == nil || !strings.Contains(err.Error(), "1 of 2 queries") {
		t.Errorf("error %v", err)
	}
}
