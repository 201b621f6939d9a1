package indexer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/ingest"
	"github.com/colsmol/colsmol/ingest/pdfwrite"
	"github.com/colsmol/colsmol/internal/ort"
)

// repoRoot finds the module root (where go.mod is).
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

var (
	tinyOnce sync.Once
	tinyEm   *embed.Embedder
	tinyErr  error
	rendOnce sync.Once
	rend     *ingest.Renderer
	rendErr  error
)

// tinyEmbedder opens the tiny test retriever once for the package (ONNX Runtime and the committed model
// are required; the test is skipped only when the ONNX Runtime library is missing).
func tinyEmbedder(t testing.TB) *embed.Embedder {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "testdata", "models", "tiny-colsmol")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("tiny model missing: %v (it is committed under testdata/models)", err)
	}
	if _, err := ort.Init(""); err != nil {
		t.Skipf("ONNX Runtime library not available: %v (run `make ort`)", err)
	}
	tinyOnce.Do(func() { tinyEm, tinyErr = embed.Open(dir, embed.Options{Threads: 2}) })
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyEm
}

func renderer(t testing.TB) *ingest.Renderer {
	t.Helper()
	rendOnce.Do(func() { rend, rendErr = ingest.NewRendererWithOptions(ingest.RendererOptions{Instances: 2}) })
	if rendErr != nil {
		t.Fatal(rendErr)
	}
	return rend
}

// samplePDF writes a small PDF whose pages each carry a different title and a box at a different place.
func samplePDF(title string, pages int) []byte {
	d := pdfwrite.New()
	for i := 0; i < pages; i++ {
		p := d.AddPage(595, 842)
		p.Fill(0, 0, 0)
		p.Text(50, 780, 20, true, fmt.Sprintf("%s, page %d", title, i+1))
		p.Fill(0.2*float64(i%5), 0.4, 0.8)
		p.Rect(50+float64(i*40%400), 300, 120, 200, true)
	}
	return d.Bytes(pdfwrite.Options{})
}

func samplePNG(c color.RGBA, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if (x/20+y/20)%2 == 0 {
				img.Set(x, y, c)
			} else {
				img.Set(x, y, color.White)
			}
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkConsistent verifies that every stored document is whole: its page count matches its pages, and each
// page has vectors, image positions inside them, and both display images.
func checkConsistent(t testing.TB, st *index.Store) []index.Document {
	t.Helper()
	docs, err := st.Documents()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Pages <= 0 {
			t.Errorf("%s: %d pages", d.Path, d.Pages)
		}
		for p := 1; p <= d.Pages; p++ {
			vecs, pos, err := st.PageVectors(d.ID, p)
			if err != nil || len(vecs) == 0 || len(pos) == 0 || pos[len(pos)-1] >= len(vecs) {
				t.Errorf("%s page %d: %d vectors, %d image positions, %v", d.Path, p, len(vecs), len(pos), err)
			}
			for _, thumb := range []bool{true, false} {
				if img, err := st.PageImage(d.ID, p, thumb); err != nil || len(img) < 100 {
					t.Errorf("%s page %d: image (thumb %v) %d bytes, %v", d.Path, p, thumb, len(img), err)
				}
			}
		}
		if _, err := st.PageInfo(d.ID, d.Pages+1); !errors.Is(err, index.ErrNotFound) {
			t.Errorf("%s: a page beyond its %d pages: %v", d.Path, d.Pages, err)
		}
	}
	return docs
}

func failedPaths(s *Summary) []string {
	var out []string
	for _, f := range s.Failed {
		out = append(out, filepath.Base(f.Path))
	}
	sort.Strings(out)
	return out
}

func TestIncremental(t *testing.T) {
	em := tinyEmbedder(t)
	r := renderer(t)
	dir := t.TempDir()
	docsDir := filepath.Join(dir, "docs")
	writeFile(t, filepath.Join(docsDir, "report.pdf"), samplePDF("Quarterly report", 2))
	writeFile(t, filepath.Join(docsDir, "sub", "checks.png"), samplePNG(color.RGBA{200, 30, 30, 255}, 300, 200))
	// Bad input, each reported once and skipped.
	good := samplePDF("x", 1)
	locked := pdfwrite.New()
	locked.AddPage(300, 300).Text(20, 20, 12, false, "secret")
	writeFile(t, filepath.Join(docsDir, "empty.pdf"), nil)
	writeFile(t, filepath.Join(docsDir, "truncated.pdf"), good[:150])
	writeFile(t, filepath.Join(docsDir, "locked.pdf"), locked.Bytes(pdfwrite.Options{RequirePassword: true}))
	writeFile(t, filepath.Join(docsDir, "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"))
	writeFile(t, filepath.Join(docsDir, "name-\xff.pdf"), good)
	if err := os.Symlink("loop.pdf", filepath.Join(docsDir, "loop.pdf")); err != nil {
		t.Fatal(err)
	}

	st, err := index.Open(filepath.Join(dir, "index.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var events []Event
	o := Options{Progress: func(e Event) { events = append(events, e) }}

	// First run: two documents (3 pages), six failures.
	s, err := Run(ctx, st, em, r, []string{docsDir}, o)
	if err != nil {
		t.Fatal(err)
	}
	wantFailed := []string{"broken.png", "empty.pdf", "locked.pdf", "loop.pdf", "name-\xff.pdf", "truncated.pdf"}
	if got := failedPaths(s); strings.Join(got, "|") != strings.Join(wantFailed, "|") {
		t.Errorf("failed %q, want %q", got, wantFailed)
	}
	for _, f := range s.Failed {
		if !strings.Contains(f.Error, ";") {
			t.Errorf("%s: %q does not say what to do", f.Path, f.Error)
		}
	}
	if s.Embedded != 3 || s.Pages != 3 || s.Skipped != 0 || s.Files != 6 {
		t.Errorf("first run: %+v", s)
	}
	docs := checkConsistent(t, st)
	if len(docs) != 2 {
		t.Fatalf("%d documents", len(docs))
	}
	report, checks := docs[0], docs[1]
	if filepath.Base(report.Path) != "report.pdf" || report.Pages != 2 || !filepath.IsAbs(report.Path) {
		t.Errorf("report document %+v", report)
	}
	info, err := st.PageInfo(report.ID, 1)
	if err != nil || info.Width != 1448 || info.Height != 2048 || info.Tiles.Rows != 4 || info.Tiles.Cols != 3 {
		t.Errorf("report page 1: %+v, %v (want 1448x2048 rendered, 4x3 tiles)", info, err)
	}
	thumb, _ := st.PageImage(report.ID, 1, true)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(thumb)); err != nil || cfg.Height != ThumbEdge {
		t.Errorf("thumbnail %+v, %v", cfg, err)
	}
	vecsBefore, _, _ := st.PageVectors(report.ID, 2)

	// The same query finds the pages, with 1-based page numbers.
	q, err := em.EmbedQuery(ctx, "quarterly report")
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Search(q, 10, index.SearchOptions{Exact: true})
	if err != nil || len(res) != 3 {
		t.Fatalf("search: %v, %v", res, err)
	}

	// Second run: nothing to embed.
	s, err = Run(ctx, st, em, r, []string{docsDir}, o)
	if err != nil || s.Embedded != 0 || s.Skipped != 2 || s.Pages != 3 || len(s.Failed) != 6 {
		t.Errorf("rerun: %+v, %v", s, err)
	}

	// A changed image is embedded again and replaces its document; a touched PDF is not.
	writeFile(t, filepath.Join(docsDir, "sub", "checks.png"), samplePNG(color.RGBA{30, 30, 200, 255}, 200, 300))
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(docsDir, "report.pdf"), later, later); err != nil {
		t.Fatal(err)
	}
	s, err = Run(ctx, st, em, r, []string{docsDir}, o)
	if err != nil || s.Embedded != 1 || s.Skipped != 1 {
		t.Errorf("after a change: %+v, %v", s, err)
	}
	docs = checkConsistent(t, st)
	if len(docs) != 2 || docs[1].SHA256 == checks.SHA256 || docs[1].Path != checks.Path {
		t.Errorf("documents after a change: %+v", docs)
	}
	fi, _ := os.Stat(filepath.Join(docsDir, "report.pdf"))
	if d, _ := st.ByPath(report.Path); d == nil || !d.ModTime.Equal(fi.ModTime()) || d.SHA256 != report.SHA256 {
		t.Errorf("touched report: %+v", d)
	}

	// A moved file keeps its embedding; only the path changes.
	moved := filepath.Join(docsDir, "archive", "report-2026.pdf")
	os.MkdirAll(filepath.Dir(moved), 0o755)
	if err := os.Rename(filepath.Join(docsDir, "report.pdf"), moved); err != nil {
		t.Fatal(err)
	}
	events = nil
	s, err = Run(ctx, st, em, r, []string{docsDir}, o)
	if err != nil || s.Embedded != 0 || s.Moved != 1 {
		t.Errorf("after a move: %+v, %v", s, err)
	}
	docs = checkConsistent(t, st)
	if len(docs) != 2 || docs[0].Path != moved || docs[0].SHA256 != report.SHA256 {
		t.Errorf("documents after a move: %+v", docs)
	}
	vecsAfter, _, _ := st.PageVectors(docs[0].ID, 2)
	if len(vecsAfter) != len(vecsBefore) || vecsAfter[5][7] != vecsBefore[5][7] {
		t.Errorf("the moved document's vectors changed")
	}
	sawMove := false
	for _, e := range events {
		sawMove = sawMove || e.Kind == FileMoved && e.From == report.Path
	}
	if !sawMove {
		t.Errorf("no FileMoved event")
	}

	// A copy of an indexed file is not embedded again (its content is found under the original's path).
	copyPath := filepath.Join(docsDir, "copy.pdf")
	data, _ := os.ReadFile(moved)
	writeFile(t, copyPath, data)
	s, err = Run(ctx, st, em, r, []string{docsDir}, o)
	if err != nil || s.Embedded != 0 || s.Skipped != 3 || len(checkConsistent(t, st)) != 2 {
		t.Errorf("with a copy: %+v, %v", s, err)
	}
	os.Remove(copyPath)

	// A deleted file stays indexed until --prune.
	os.Remove(filepath.Join(docsDir, "sub", "checks.png"))
	s, err = Run(ctx, st, em, r, []string{docsDir}, o)
	if err != nil || s.Removed != 0 || len(checkConsistent(t, st)) != 2 {
		t.Errorf("without prune: %+v, %v", s, err)
	}
	o.Prune = true
	s, err = Run(ctx, st, em, r, []string{docsDir}, o)
	if err != nil || s.Removed != 1 || s.Skipped != 1 {
		t.Errorf("prune: %+v, %v", s, err)
	}
	if docs := checkConsistent(t, st); len(docs) != 1 || docs[0].Path != moved {
		t.Errorf("after prune: %+v", docs)
	}
}

func TestDryRun(t *testing.T) {
	r := renderer(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.pdf"), samplePDF("A", 3))
	writeFile(t, filepath.Join(dir, "b.png"), samplePNG(color.RGBA{0, 0, 0, 255}, 1280, 800))
	writeFile(t, filepath.Join(dir, "bad.pdf"), []byte("%PDF-1.4 nope"))
	st, err := index.Open(filepath.Join(t.TempDir(), "x.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range []struct {
		maxTiles, tilesA, tilesB int
	}{
		{0, 3 * 13, 13}, // A4: 4x3+1; 1280x800: 3x4+1
		{5, 3 * 5, 5},   // A4 at 1024: 2x2+1; 1280x800 at 1024: 2x2+1
		{9, 3 * 5, 7},   // 1280x800 at 1536: 1536x960 -> 2x3+1
	} {
		s, err := Run(context.Background(), st, nil, r, []string{dir}, Options{DryRun: true, MaxTiles: c.maxTiles, SecondsPerTile: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Plan) != 2 || len(s.Failed) != 1 {
			t.Fatalf("plan %+v, failed %+v", s.Plan, s.Failed)
		}
		a, b := s.Plan[0], s.Plan[1]
		if a.Pages != 3 || a.Tiles != c.tilesA || a.Seconds != float64(2*c.tilesA) || a.Action != "new" {
			t.Errorf("max %d: a.pdf %+v, want %d tiles", c.maxTiles, a, c.tilesA)
		}
		if b.Pages != 1 || b.Tiles != c.tilesB {
			t.Errorf("max %d: b.png %+v, want %d tiles", c.maxTiles, b, c.tilesB)
		}
	}
	if docs, _ := st.Documents(); len(docs) != 0 {
		t.Errorf("a dry run stored %d documents", len(docs))
	}
}

func TestCancel(t *testing.T) {
	em := tinyEmbedder(t)
	r := renderer(t)
	dir := t.TempDir()
	for i := 0; i < 4; i++ {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("d%d.pdf", i)), samplePDF(fmt.Sprintf("doc %d", i), 2))
	}
	st, err := index.Open(filepath.Join(dir, "index.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	o := Options{Progress: func(e Event) {
		if e.Kind == FileIndexed {
			cancel() // stop after the first stored document
		}
	}}
	s, err := Run(ctx, st, em, r, []string{dir}, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	docs := checkConsistent(t, st)
	if len(docs) == 0 || len(docs) == 4 || s.Embedded != 2*len(docs) {
		t.Errorf("after cancel: %d documents, summary %+v", len(docs), s)
	}
	// The next run picks up the rest (pages of a document under way may come back from the partial store).
	restored := 0
	s, err = Run(context.Background(), st, em, r, []string{dir}, Options{Progress: func(e Event) {
		if e.Kind == PageRestored {
			restored++
		}
	}})
	if err != nil || s.Skipped != len(docs) || s.Embedded+restored != 2*(4-len(docs)) {
		t.Errorf("resume: %+v (%d pages restored), %v", s, restored, err)
	}
	if docs := checkConsistent(t, st); len(docs) != 4 {
		t.Errorf("%d documents after resuming", len(docs))
	}
}

// TestResumeInsideDocument interrupts a run in the middle of a 4-page PDF and checks that the next run reuses
// the pages already embedded and stores the same vectors as an uninterrupted run.
func TestResumeInsideDocument(t *testing.T) {
	em := tinyEmbedder(t)
	r := renderer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "docs", "long.pdf")
	writeFile(t, path, samplePDF("Long document", 4))
	db := filepath.Join(dir, "index.db")
	st, err := index.Open(db, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	embedded := 0
	_, err = Run(ctx, st, em, r, []string{path}, Options{Progress: func(e Event) {
		if e.Kind == PageEmbedded {
			if embedded++; embedded == 2 {
				cancel() // two of pages 1-3 are in the partial store (the last page never is)
			}
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if docs := checkConsistent(t, st); len(docs) != 0 {
		t.Fatalf("a half-embedded document was stored: %+v", docs)
	}
	var restored, again []int
	s, err := Run(context.Background(), st, em, r, []string{path}, Options{Progress: func(e Event) {
		switch e.Kind {
		case PageRestored:
			restored = append(restored, e.Page)
		case PageEmbedded:
			again = append(again, e.Page)
		}
	}})
	all := append(append([]int{}, restored...), again...)
	sort.Ints(all)
	if err != nil || s.Embedded != len(again) || s.Pages != 4 || len(restored) < 2 || fmt.Sprint(all) != "[1 2 3 4]" {
		t.Fatalf("resume: %+v, %v; pages restored %v, embedded %v", s, err, restored, again)
	}
	if _, err := os.Stat(db + ".partial"); !os.IsNotExist(err) {
		t.Errorf("partial pages left behind: %v", err)
	}
	// An uninterrupted run into another index gives the same pages.
	st2, err := index.Open(filepath.Join(dir, "fresh.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if _, err := Run(context.Background(), st2, em, r, []string{path}, Options{}); err != nil {
		t.Fatal(err)
	}
	a, b := checkConsistent(t, st), checkConsistent(t, st2)
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("documents %d and %d", len(a), len(b))
	}
	for p := 1; p <= 4; p++ {
		va, pa, _ := st.PageVectors(a[0].ID, p)
		vb, pb, _ := st2.PageVectors(b[0].ID, p)
		ta, _ := st.PageImage(a[0].ID, p, true)
		tb, _ := st2.PageImage(b[0].ID, p, true)
		if len(va) != len(vb) || len(pa) != len(pb) || !bytes.Equal(ta, tb) {
			t.Fatalf("page %d differs: %d/%d vectors, %d/%d thumb bytes", p, len(va), len(vb), len(ta), len(tb))
		}
		for i := range va {
			for k := range va[i] {
				if va[i][k] != vb[i][k] {
					t.Fatalf("page %d vector %d differs", p, i)
				}
			}
		}
	}
}

// TestMaxTiles indexes an A4 page within a 5-tile budget: it is rendered with a 1024-pixel longest edge and
// cut into 2×2 tiles plus the global view (5×64 image tokens).
func TestMaxTiles(t *testing.T) {
	em := tinyEmbedder(t)
	if _, ok := any(em).(edgeEmbedder); !ok {
		t.Skip("the embedder cannot resize pages to another longest edge yet (embed.Embedder.EmbedPagesAt)")
	}
	r := renderer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "a4.pdf")
	writeFile(t, path, samplePDF("Budget", 1))
	st, err := index.Open(filepath.Join(dir, "index.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := Run(context.Background(), st, em, r, []string{path}, Options{MaxTiles: 5}); err != nil {
		t.Fatal(err)
	}
	docs := checkConsistent(t, st)
	info, err := st.PageInfo(docs[0].ID, 1)
	if err != nil || info.Width != 724 || info.Height != 1024 || info.Tiles != (index.Tiles{Rows: 2, Cols: 2}) || len(info.ImagePositions) != 5*em.Processor().SeqLen {
		t.Errorf("page %+v, %v", info, err)
	}
}

// TestPoolFactor checks that pooled pages store about 1/factor of the vectors, unit length, without image
// positions, and that search still finds them.
func TestPoolFactor(t *testing.T) {
	em := tinyEmbedder(t)
	r := renderer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "cat.png")
	writeFile(t, path, samplePNG(color.RGBA{200, 40, 40, 255}, 300, 200))

	counts := map[int]int{}
	for _, factor := range []int{0, 3} {
		st, err := index.Open(filepath.Join(dir, fmt.Sprintf("index-%d.db", factor)), index.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Run(context.Background(), st, em, r, []string{path}, Options{PoolFactor: factor}); err != nil {
			t.Fatal(err)
		}
		docs, err := st.Documents()
		if err != nil || len(docs) != 1 {
			t.Fatalf("pool factor %d: documents %v, %v", factor, docs, err)
		}
		vecs, pos, err := st.PageVectors(docs[0].ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		counts[factor] = len(vecs)
		if factor > 1 {
			if len(pos) != 0 {
				t.Errorf("pool factor %d: %d image positions kept, want none", factor, len(pos))
			}
			for i, v := range vecs {
				var n float64
				for _, x := range v {
					n += float64(x) * float64(x)
				}
				if math.Abs(n-1) > 1e-2 {
					t.Fatalf("pooled vector %d has squared norm %.4f, want 1", i, n)
				}
			}
		}
		q, err := em.EmbedQuery(context.Background(), "a red picture")
		if err != nil {
			t.Fatal(err)
		}
		if res, err := st.Search(q, 1, index.SearchOptions{}); err != nil || len(res) != 1 {
			t.Errorf("pool factor %d: search gave %v, %v", factor, res, err)
		}
		st.Close()
	}
	if counts[3] == 0 || counts[3] > counts[0]/3 || counts[3] < counts[0]/4 {
		t.Errorf("pool factor 3 stored %d vectors for a %d-vector page, want about a third (at most %d)", counts[3], counts[0], counts[0]/3)
	}
}
