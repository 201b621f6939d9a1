package vidore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
	"github.com/colsmol/colsmol/maxsim"
)

// tinyModel is the committed tiny retriever; realPages are page renders committed for the embed tests.
const (
	tinyModel = "../../testdata/models/tiny-colsmol"
	realPages = "../../embed/testdata/pages"
)

func openTinyEmbedder(t *testing.T) *embed.Embedder {
	t.Helper()
	_, err := ort.Init("")
	if errors.Is(err, ort.ErrNoLibrary) {
		lib := filepath.Join("..", "..", "lib", "libonnxruntime.so.1.24.3")
		if _, serr := os.Stat(lib); serr != nil {
			t.Skip("ONNX Runtime library not found; run `make ort`")
		}
		_, err = ort.Init(lib)
	}
	if err != nil {
		t.Fatalf("ort.Init: %v", err)
	}
	em, err := embed.Open(tinyModel, embed.Options{Threads: 2})
	if err != nil {
		t.Fatalf("open the tiny model: %v", err)
	}
	t.Cleanup(func() { em.Close() })
	return em
}

// formPNG draws a simple form-like page (text lines as bars) of the given size.
func formPNG(t *testing.T, w, h int, seed int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{250, 250, 245, 255}
			if (y/12)%3 == 0 && x > 20 && x < w-20-(y*seed)%90 {
				c = color.NRGBA{uint8(20 * seed), 30, 40, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestEndToEnd_TinyModelOnRealPages(t *testing.T) {
	em := openTinyEmbedder(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(realPages, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// A QA dataset: two queries share the table page, a null-query distractor, a repeated query.
	dir := t.TempDir()
	rows := []qaRow{
		{Query: ptr("quarterly revenue table"), Image: &hfImage{Bytes: read("table_4x3")}, ImageFilename: "table.png"},
		{Query: ptr("a photo of a cat"), Image: &hfImage{Bytes: read("photo_1x2")}, ImageFilename: "photo.png"},
		{Query: nil, Image: &hfImage{Bytes: formPNG(t, 300, 420, 1)}, ImageFilename: "form1.png"},
		{Query: ptr("sales by region chart"), Image: &hfImage{Bytes: read("chart_4x1")}, ImageFilename: "chart.png"},
		{Query: ptr("signed application form"), Image: &hfImage{Bytes: formPNG(t, 420, 300, 2)}, ImageFilename: "form2.png"},
		{Query: ptr("quarterly revenue table"), Image: &hfImage{Bytes: read("table_4x3")}, ImageFilename: "table.png"},
	}
	writeShards(t, filepath.Join(dir, "data"), rows, 1)
	ds, err := Load(dir, "local/tiny_qa", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cache, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	id, err := ModelIdentity(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Embedder: em, Cache: cache, ModelID: id, PageBatch: 2}
	res, err := r.Run(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Queries) != 4 || res.Pages != 6 || res.UniquePages != 5 || res.Embedded != 5 {
		t.Fatalf("%d queries, %d pages, %d unique, %d embedded; want 4, 6, 5, 5", len(res.Queries), res.Pages, res.UniquePages, res.Embedded)
	}

	// The run's scores are MaxSim of embeddings made one page at a time, outside the runner.
	alone := map[string][][]float32{}
	for _, p := range ds.Passages {
		if alone[p.DocID] != nil {
			continue
		}
		img, err := vlm.DecodeImage(p.Image, vlm.AlphaDrop)
		if err != nil {
			t.Fatal(err)
		}
		pages, err := em.EmbedPages(context.Background(), []*vlm.RGB{img})
		if err != nil {
			t.Fatal(err)
		}
		alone[p.DocID] = pages[0].Vectors
	}
	for qi, qr := range res.Run {
		qv, err := em.EmbedQuery(context.Background(), res.Queries[qi].Text)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range qr.Docs {
			want := maxsim.Reference(qv, alone[d.DocID])
			if d.DocID != ds.Passages[0].DocID {
				want = math.Max(0, want)
			}
			if math.Abs(d.Score-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Errorf("query %q page %s: score %v, want %v", qr.QueryID, d.DocID, d.Score, want)
			}
		}
	}

	// The run file, read back and evaluated with trec_eval's rules, gives the reported numbers.
	var runFile, qrelsFile bytes.Buffer
	if err := WriteRun(&runFile, res.Queries, res.Run, 100); err != nil {
		t.Fatal(err)
	}
	if err := WriteQrels(&qrelsFile, ds); err != nil {
		t.Fatal(err)
	}
	qrels, run := readTrec(t, qrelsFile.String(), runFile.String())
	fromFiles := Evaluate(qrels, run)
	for _, name := range []string{"ndcg_at_1", "ndcg_at_5", "map_at_5", "recall_at_3", "precision_at_1"} {
		a, _ := res.Metrics.Get(name)
		b, _ := fromFiles.Get(name)
		if a != b {
			t.Errorf("%s: %v reported, %v from the run file", name, a, b)
		}
	}

	// A rerun is served by the cache.
	again, err := r.Run(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if again.Embedded != 0 {
		t.Errorf("the rerun embedded %d pages, want 0", again.Embedded)
	}
	a, _ := res.Metrics.Get("ndcg_at_5")
	b, _ := again.Metrics.Get("ndcg_at_5")
	if a != b {
		t.Errorf("ndcg_at_5 %v, then %v from the cache", a, b)
	}
}

// readTrec parses TREC qrels and run files as trec_eval would, keeping the run order of queries.
func readTrec(t *testing.T, qrelsText, runText string) (Qrels, Run) {
	t.Helper()
	qrels := Qrels{}
	for _, line := range strings.Split(strings.TrimSpace(qrelsText), "\n") {
		f := strings.Fields(line)
		rel, err := strconv.Atoi(f[3])
		if len(f) != 4 || err != nil {
			t.Fatalf("qrels line %q", line)
		}
		if qrels[f[0]] == nil {
			qrels[f[0]] = map[string]int{}
		}
		qrels[f[0]][f[2]] = rel
	}
	var run Run
	sc := bufio.NewScanner(strings.NewReader(runText))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 6 || f[1] != "Q0" || f[5] != RunTag {
			t.Fatalf("run line %q", sc.Text())
		}
		s, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		if len(run) == 0 || run[len(run)-1].QueryID != f[0] {
			run = append(run, QueryRun{QueryID: f[0]})
		}
		run[len(run)-1].Docs = append(run[len(run)-1].Docs, Scored{f[2], s})
	}
	return qrels, run
}
