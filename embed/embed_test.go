package embed

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/colsmol/colsmol/internal/npy"
	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
)

// tinyModel is the committed tiny retriever (split layout).
const tinyModel = "../testdata/models/tiny-colsmol"

// tolerance is the largest element difference allowed against the reference embeddings.
const tolerance = 1e-4

// goldenPages and goldenQueries name the inputs of embed/testdata/golden (scripts/embed/make_goldens.sh).
var (
	goldenPages   = []string{"table_4x3", "photo_1x2", "chart_4x1"}
	goldenQueries = map[string]string{"revenue": "quarterly revenue table", "cat": "a photo of a cat", "empty": ""}
)

// initORT starts ONNX Runtime, skipping only when the library is truly missing.
func initORT(t testing.TB) {
	t.Helper()
	_, err := ort.Init("")
	if errors.Is(err, ort.ErrNoLibrary) {
		lib := filepath.Join("..", "lib", "libonnxruntime.so.1.24.3")
		if _, serr := os.Stat(lib); serr != nil {
			t.Skip("ONNX Runtime library not found; run `make ort`")
		}
		_, err = ort.Init(lib)
	}
	if err != nil {
		t.Fatalf("ort.Init: %v", err)
	}
}

// openTiny opens a model folder for a test and closes it at the end.
func openTiny(t testing.TB, dir string, o Options) *Embedder {
	t.Helper()
	initORT(t)
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Fatalf("test model missing: %v", err)
	}
	e, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// loadPage decodes a test page image.
func loadPage(t testing.TB, name string) *vlm.RGB {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pages", name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := vlm.DecodeImage(b, vlm.AlphaDrop)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// readGolden reads a reference array from testdata/golden.
func readGolden(t testing.TB, name string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(filepath.Join("testdata", "golden", name+".npy"))
	if err != nil {
		t.Fatalf("golden %s: %v (regenerate with scripts/embed/make_goldens.sh)", name, err)
	}
	return a
}

// compareVectors checks got [L][dim] against a reference [L, dim] array.
func compareVectors(t testing.TB, what string, got [][]float32, want *npy.Array) {
	t.Helper()
	if len(want.Shape) != 2 || len(got) != want.Shape[0] {
		t.Fatalf("%s: %d vectors, reference has shape %v", what, len(got), want.Shape)
	}
	dim := want.Shape[1]
	worst := 0.0
	for i, v := range got {
		if len(v) != dim {
			t.Fatalf("%s: vector %d has %d values, want %d", what, i, len(v), dim)
		}
		for j, x := range v {
			worst = math.Max(worst, math.Abs(float64(x-want.F32[i*dim+j])))
		}
	}
	if worst > tolerance {
		t.Errorf("%s: max abs difference %.3g from the reference, want <= %g", what, worst, tolerance)
	}
}

// vectorsDiff returns the largest element difference between two multi-vectors of equal shape.
func vectorsDiff(t testing.TB, a, b [][]float32) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d vectors vs %d", len(a), len(b))
	}
	worst := 0.0
	for i := range a {
		for j := range a[i] {
			worst = math.Max(worst, math.Abs(float64(a[i][j]-b[i][j])))
		}
	}
	return worst
}

// maxSim is the late-interaction score: for each query vector the best dot product over the page.
func maxSim(q, page [][]float32) float64 {
	total := 0.0
	for _, qv := range q {
		best := math.Inf(-1)
		for _, pv := range page {
			s := 0.0
			for k := range qv {
				s += float64(qv[k] * pv[k])
			}
			best = math.Max(best, s)
		}
		total += best
	}
	return total
}

func TestEmbedPages_MatchesReference(t *testing.T) {
	e := openTiny(t, tinyModel, Options{Threads: 1})
	imgs := make([]*vlm.RGB, len(goldenPages))
	for i, name := range goldenPages {
		imgs[i] = loadPage(t, name)
	}
	pages, err := e.EmbedPages(context.Background(), imgs)
	if err != nil {
		t.Fatalf("EmbedPages: %v", err)
	}
	for i, name := range goldenPages {
		p := pages[i]
		compareVectors(t, name, p.Vectors, readGolden(t, "page_"+name))
		ids := readGolden(t, "page_"+name+".input_ids")
		in, err := e.Processor().Document(imgs[i])
		if err != nil || !slices.Equal(in.InputIDs, ids.I64) {
			t.Fatalf("%s: the processor's input ids differ from the reference inputs (err %v); if the processor changed on purpose, regenerate with scripts/embed/make_goldens.sh", name, err)
		}
		want := 0
		for _, id := range ids.I64 {
			if id == 49190 {
				want++
			}
		}
		if len(p.ImagePositions) != want || want == 0 {
			t.Errorf("%s: %d image positions, the reference input has %d <image> tokens", name, len(p.ImagePositions), want)
		}
		for k, pos := range p.ImagePositions {
			if ids.I64[pos] != 49190 || (k > 0 && pos <= p.ImagePositions[k-1]) {
				t.Fatalf("%s: image position %d = %d is not an <image> token in order", name, k, pos)
			}
		}
	}
	if tiles := pages[0].Tiles; tiles.Rows != 3 || tiles.Cols != 4 {
		t.Errorf("table_4x3 tiles = %+v, want 3 rows x 4 cols", tiles)
	}
}

func TestEmbedQuery_MatchesReference(t *testing.T) {
	e := openTiny(t, tinyModel, Options{Threads: 1})
	for name, q := range goldenQueries {
		got, err := e.EmbedQuery(context.Background(), q)
		if err != nil {
			t.Fatalf("EmbedQuery(%q): %v", q, err)
		}
		compareVectors(t, "query "+name, got, readGolden(t, "query_"+name))
	}
}

func TestEmbedPages_DifferentPagesDiffer(t *testing.T) {
	e := openTiny(t, tinyModel, Options{Threads: 1})
	a, b := loadPage(t, "table_4x3"), loadPage(t, "photo_1x2")
	// Same size so that both pages have the same token sequence and only the pixels differ.
	b = resizeNearest(b, a.W, a.H)
	pages, err := e.EmbedPages(context.Background(), []*vlm.RGB{a, b})
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := pages[0], pages[1]
	if len(pa.Vectors) != len(pb.Vectors) {
		t.Fatalf("sequence lengths differ: %d vs %d", len(pa.Vectors), len(pb.Vectors))
	}
	// Mean cosine over image positions (vectors are unit length, so the dot product is the cosine).
	sum := 0.0
	for _, pos := range pa.ImagePositions {
		for k := range pa.Vectors[pos] {
			sum += float64(pa.Vectors[pos][k] * pb.Vectors[pos][k])
		}
	}
	mean := sum / float64(len(pa.ImagePositions))
	if mean > 0.95 {
		t.Errorf("mean cosine between the image vectors of two different pages = %.4f, want clearly below 1", mean)
	}
	for _, v := range pa.Vectors[:3] {
		n := 0.0
		for _, x := range v {
			n += float64(x * x)
		}
		if math.Abs(n-1) > 1e-4 {
			t.Errorf("vector norm^2 = %v, want 1", n)
		}
	}
}

// resizeNearest scales an image to w x h by nearest neighbour (test helper).
func resizeNearest(src *vlm.RGB, w, h int) *vlm.RGB {
	dst := vlm.NewRGB(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := x*src.W/w, y*src.H/h
			copy(dst.Pix[3*(y*w+x):3*(y*w+x)+3], src.Pix[3*(sy*src.W+sx):3*(sy*src.W+sx)+3])
		}
	}
	return dst
}

// syntheticPages draws n different pages of the same size (so they batch together).
func syntheticPages(n int) []*vlm.RGB {
	pages := make([]*vlm.RGB, n)
	for i := range pages {
		img := vlm.NewRGB(64, 48)
		for y := 0; y < img.H; y++ {
			for x := 0; x < img.W; x++ {
				o := 3 * (y*img.W + x)
				img.Pix[o] = uint8((x*(i+1)*37 + y*11) % 256)
				img.Pix[o+1] = uint8((y*(i+2)*23 + x*i*5) % 256)
				img.Pix[o+2] = uint8(((x/(i+2))*(y/(i+1))*50 + i*60) % 256)
			}
		}
		pages[i] = img
	}
	return pages
}

// TestRanking_StableAcrossBatchesAndThreads embeds the same pages and queries one at a time on one thread
// and batched on two threads with several tiles per vision call, and checks that vectors agree and each
// query's best page is the same.
func TestRanking_StableAcrossBatchesAndThreads(t *testing.T) {
	pages := append(syntheticPages(3), loadPage(t, "table_4x3"), loadPage(t, "chart_4x1"))
	queries := []string{"quarterly revenue table", "a photo of a cat", "bar chart", "the second row of the table, third column"}
	configs := map[string]Options{
		"one at a time, 1 thread": {Threads: 1, BatchTokens: 1, QueryBatch: 1, TilesPerCall: 1},
		"batched, 2 threads":      {Threads: 2, BatchTokens: 1 << 16, QueryBatch: 8, TilesPerCall: 5},
	}
	type result struct {
		pages   []Page
		queries [][][]float32
		ranks   [][]int     // per query, page indexes best first
		scores  [][]float64 // per query, per page
	}
	results := map[string]result{}
	for name, o := range configs {
		e := openTiny(t, tinyModel, o)
		ps, err := e.EmbedPages(context.Background(), pages)
		if err != nil {
			t.Fatalf("%s: EmbedPages: %v", name, err)
		}
		qs, err := e.EmbedQueries(context.Background(), queries)
		if err != nil {
			t.Fatalf("%s: EmbedQueries: %v", name, err)
		}
		r := result{pages: ps, queries: qs}
		for _, q := range qs {
			scores := make([]float64, len(ps))
			rank := make([]int, len(ps))
			for i, p := range ps {
				scores[i], rank[i] = maxSim(q, p.Vectors), i
			}
			sort.SliceStable(rank, func(a, b int) bool { return scores[rank[a]] > scores[rank[b]] })
			r.ranks, r.scores = append(r.ranks, rank), append(r.scores, scores)
		}
		results[name] = r
	}
	a, b := results["one at a time, 1 thread"], results["batched, 2 threads"]
	for i := range pages {
		if d := vectorsDiff(t, a.pages[i].Vectors, b.pages[i].Vectors); d > tolerance {
			t.Errorf("page %d: batched vectors differ by %.3g", i, d)
		}
	}
	for i := range queries {
		if d := vectorsDiff(t, a.queries[i], b.queries[i]); d > tolerance {
			t.Errorf("query %d: batched (left-padded) vectors differ by %.3g", i, d)
		}
		if a.ranks[i][0] != b.ranks[i][0] {
			t.Errorf("query %d: best page %d one at a time, %d batched", i, a.ranks[i][0], b.ranks[i][0])
		}
		for k := range pages {
			if d := math.Abs(a.scores[i][k] - b.scores[i][k]); d > 1e-3 {
				t.Errorf("query %d page %d: MaxSim %.5f one at a time, %.5f batched", i, k, a.scores[i][k], b.scores[i][k])
			}
		}
		// The full ranking agrees wherever neighbouring scores are not a near tie.
		for k := 0; k+1 < len(pages); k++ {
			gap := a.scores[i][a.ranks[i][k]] - a.scores[i][a.ranks[i][k+1]]
			if gap > 1e-3 && a.ranks[i][k] != b.ranks[i][k] {
				t.Errorf("query %d: ranking %v one at a time, %v batched", i, a.ranks[i], b.ranks[i])
				break
			}
		}
	}
}

func TestEmbedPages_ImageTokensOnly(t *testing.T) {
	full := openTiny(t, tinyModel, Options{Threads: 1})
	only := openTiny(t, tinyModel, Options{Threads: 1, ImageTokensOnly: true})
	img := loadPage(t, "chart_4x1")
	pf, err := full.EmbedPages(context.Background(), []*vlm.RGB{img})
	if err != nil {
		t.Fatal(err)
	}
	po, err := only.EmbedPages(context.Background(), []*vlm.RGB{img})
	if err != nil {
		t.Fatal(err)
	}
	if want := 64 * 5; len(po[0].Vectors) != want {
		t.Fatalf("%d vectors, want %d (64 per tile, 5 tiles)", len(po[0].Vectors), want)
	}
	var fromFull [][]float32
	for _, pos := range pf[0].ImagePositions {
		fromFull = append(fromFull, pf[0].Vectors[pos])
	}
	if d := vectorsDiff(t, po[0].Vectors, fromFull); d != 0 {
		t.Errorf("image-only vectors differ from the image positions of the full page by %g", d)
	}
	for k, pos := range po[0].ImagePositions {
		if pos != k {
			t.Fatalf("ImagePositions[%d] = %d, want %d", k, pos, k)
		}
	}
}

func TestSingleGraphLayout(t *testing.T) {
	initORT(t)
	dir := composeSingleGraph(t, tinyModel, 49190)
	if l, err := DetectLayout(dir); err != nil || l != LayoutSingle {
		t.Fatalf("DetectLayout = %v, %v; want single", l, err)
	}
	e := openTiny(t, dir, Options{Threads: 1})
	if e.Layout() != LayoutSingle {
		t.Fatalf("layout %s", e.Layout())
	}
	pages, err := e.EmbedPages(context.Background(), []*vlm.RGB{loadPage(t, "chart_4x1"), loadPage(t, "photo_1x2")})
	if err != nil {
		t.Fatalf("EmbedPages: %v", err)
	}
	compareVectors(t, "single-graph chart_4x1", pages[0].Vectors, readGolden(t, "page_chart_4x1"))
	compareVectors(t, "single-graph photo_1x2", pages[1].Vectors, readGolden(t, "page_photo_1x2"))
	qs, err := e.EmbedQueries(context.Background(), []string{goldenQueries["cat"], goldenQueries["revenue"]})
	if err != nil {
		t.Fatalf("EmbedQueries: %v", err)
	}
	compareVectors(t, "single-graph query cat", qs[0], readGolden(t, "query_cat"))
	compareVectors(t, "single-graph query revenue", qs[1], readGolden(t, "query_revenue"))
}

func TestDetectLayout(t *testing.T) {
	empty := t.TempDir()
	gen := t.TempDir()
	os.MkdirAll(filepath.Join(gen, "onnx"), 0o755)
	os.WriteFile(filepath.Join(gen, "onnx", "decoder_model_merged.onnx"), []byte("x"), 0o644)
	tests := map[string]struct {
		dir    string
		layout Layout
		msg    string
	}{
		"split":       {dir: tinyModel, layout: LayoutSplit},
		"empty":       {dir: empty, msg: "neither the split layout"},
		"generator":   {dir: gen, msg: "answer model"},
		"not found":   {dir: filepath.Join(empty, "nope"), msg: "is not a folder"},
		"a file path": {dir: filepath.Join(tinyModel, "config.json"), msg: "is not a folder"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l, err := DetectLayout(tc.dir)
			if tc.msg == "" {
				if err != nil || l != tc.layout {
					t.Fatalf("got %v, %v; want %v", l, err, tc.layout)
				}
				return
			}
			if !errors.Is(err, ErrNoModel) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want ErrNoModel mentioning %q", err, tc.msg)
			}
		})
	}
}

func TestEmbedder_Concurrent(t *testing.T) {
	e := openTiny(t, tinyModel, Options{Threads: 1})
	img := loadPage(t, "chart_4x1")
	wantPage := readGolden(t, "page_chart_4x1")
	wantQuery := readGolden(t, "query_cat")
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for g := 0; g < 3; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			p, err := e.EmbedPages(context.Background(), []*vlm.RGB{img})
			if err == nil {
				compareVectors(t, "concurrent page", p[0].Vectors, wantPage)
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			q, err := e.EmbedQuery(context.Background(), goldenQueries["cat"])
			if err == nil {
				compareVectors(t, "concurrent query", q, wantQuery)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if s := e.Stats(); s.Pages != 3 || s.Queries != 3 || s.Vision <= 0 || s.Text <= 0 || s.Total < s.Runtime() {
		t.Errorf("stats %+v", s)
	}
}

func TestEmbedPages_Cancelled(t *testing.T) {
	e := openTiny(t, tinyModel, Options{Threads: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.EmbedPages(ctx, []*vlm.RGB{loadPage(t, "chart_4x1")}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := e.EmbedPages(context.Background(), []*vlm.RGB{nil}); err == nil || !strings.Contains(err.Error(), "page 0") {
		t.Errorf("nil image: err = %v", err)
	}
}

func TestOpen_Errors(t *testing.T) {
	initORT(t)
	// A folder with the graphs but no config.json.
	noConfig := t.TempDir()
	os.MkdirAll(filepath.Join(noConfig, "onnx"), 0o755)
	for _, f := range splitFiles {
		b, _ := os.ReadFile(filepath.Join(tinyModel, f))
		os.WriteFile(filepath.Join(noConfig, f), b, 0o644)
	}
	// The split files present but the text graph swapped for the token graph (wrong outputs).
	wrong := composeSplitWithSwap(t)
	tests := map[string]struct{ dir, msg string }{
		"no graphs":       {dir: t.TempDir(), msg: "neither the split layout"},
		"no config":       {dir: noConfig, msg: "config.json"},
		"mismatched file": {dir: wrong, msg: `has no input "inputs_embeds"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := Open(tc.dir, Options{Threads: 1})
			if err == nil {
				e.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want it to mention %q", err, tc.msg)
			}
		})
	}
}

// composeSplitWithSwap copies the tiny model with text_embeddings.onnx replaced by embed_tokens.onnx.
func composeSplitWithSwap(t *testing.T) string {
	dir := t.TempDir()
	entries, _ := os.ReadDir(tinyModel)
	for _, en := range entries {
		if !en.IsDir() {
			b, _ := os.ReadFile(filepath.Join(tinyModel, en.Name()))
			os.WriteFile(filepath.Join(dir, en.Name()), b, 0o644)
		}
	}
	os.MkdirAll(filepath.Join(dir, "onnx"), 0o755)
	for src, dst := range map[string]string{"vision_encoder": "vision_encoder", "embed_tokens": "embed_tokens", "text_embeddings": "embed_tokens"} {
		b, err := os.ReadFile(filepath.Join(tinyModel, "onnx", dst+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "onnx", src+".onnx"), b, 0o644)
	}
	return dir
}

// TestStats_OutsideShare checks the arithmetic behind the benchmark's "outside ONNX Runtime" figure.
func TestStats_OutsideShare(t *testing.T) {
	s := Stats{Total: 100, Vision: 60, Tokens: 5, Text: 30}
	if got := s.OutsideShare(); math.Abs(got-0.05) > 1e-12 {
		t.Errorf("OutsideShare = %v, want 0.05", got)
	}
	if got := (Stats{}).OutsideShare(); got != 0 {
		t.Errorf("empty OutsideShare = %v", got)
	}
}
