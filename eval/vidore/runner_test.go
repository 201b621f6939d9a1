package vidore

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/internal/vlm"
	"github.com/colsmol/colsmol/maxsim"
)

// fakeEmbedder derives page vectors from the decoded pixels and query vectors from the text, and counts
// what it embeds. It can fail after a number of EmbedPages calls (to test resuming).
type fakeEmbedder struct {
	mu        sync.Mutex
	pageCalls int
	pages     int
	queries   int
	failAfter int // EmbedPages calls allowed before failing; 0: never fail
}

var errFakeInterrupted = errors.New("interrupted")

func (f *fakeEmbedder) EmbedPages(ctx context.Context, imgs []*vlm.RGB) ([]embed.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAfter > 0 && f.pageCalls >= f.failAfter {
		return nil, errFakeInterrupted
	}
	f.pageCalls++
	out := make([]embed.Page, len(imgs))
	for i, img := range imgs {
		f.pages++
		// Three 4-d vectors from pixels at three places.
		for _, at := range []int{0, 3 * (img.W*img.H/2 + 1), len(img.Pix) - 3} {
			p := img.Pix[at : at+3]
			out[i].Vectors = append(out[i].Vectors, []float32{float32(p[0]) / 255, float32(p[1]) / 255, float32(p[2])/255 - 0.5, 0.25})
		}
	}
	return out, nil
}

func (f *fakeEmbedder) EmbedQuery(ctx context.Context, q string) ([][]float32, error) {
	f.mu.Lock()
	f.queries++
	f.mu.Unlock()
	h := fnv.New64a()
	h.Write([]byte(q))
	s := h.Sum64()
	var out [][]float32
	for j := range 2 {
		v := make([]float32, 4)
		for k := range v {
			v[k] = float32(int((s>>(8*(j*4+k)))&0xff)-128) / 128
		}
		out = append(out, v)
	}
	return out, nil
}

// tinyQA writes a QA dataset of 8 rows with repeated images (p1.png twice) and a null query.
func tinyQA(t *testing.T) *Dataset {
	t.Helper()
	dir := t.TempDir()
	writeQA(t, dir,
		[]*string{ptr("red chart"), ptr("blue table"), nil, ptr("red chart"), ptr("green map"), ptr("blue table"), ptr("memo"), nil},
		[]string{"p1.png", "p2.png", "p3.png", "p4.png", "p1.png", "p5.png", "p6.png", "p7.png"}, 2)
	ds, err := Load(dir, "tiny", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestRunner_ScoresAreMaxSimOfTheEmbeddings(t *testing.T) {
	ds := tinyQA(t)
	fe := &fakeEmbedder{}
	var events []Event
	r := &Runner{Embedder: fe, PageBatch: 2, Workers: 3, Progress: func(e Event) { events = append(events, e) }}
	res, err := r.Run(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 8 || res.UniquePages != 7 || res.Embedded != 7 || fe.pages != 7 {
		t.Errorf("pages %d unique %d embedded %d (fake saw %d), want 8, 7, 7, 7", res.Pages, res.UniquePages, res.Embedded, fe.pages)
	}
	// Every run score is MaxSim of the query's and the page's embeddings (a float64 reference loop).
	for qi, qr := range res.Run {
		qv, _ := fe.EmbedQuery(context.Background(), ds.Queries[qi].Text)
		for _, d := range qr.Docs {
			var img []byte
			for _, p := range ds.Passages {
				if p.DocID == d.DocID {
					img = p.Image
				}
			}
			rgb, err := vlm.DecodeImage(img, vlm.AlphaDrop)
			if err != nil {
				t.Fatal(err)
			}
			pv, _ := fe.EmbedPages(context.Background(), []*vlm.RGB{rgb})
			want := math.Max(0, maxsim.Reference(qv, pv[0].Vectors)) // not the first row: clamped at 0
			if d.DocID == ds.Passages[0].DocID {
				want = maxsim.Reference(qv, pv[0].Vectors)
			}
			if math.Abs(d.Score-want) > 1e-5 {
				t.Errorf("query %s doc %s: score %v, want %v", qr.QueryID, d.DocID, d.Score, want)
			}
		}
	}
	if len(res.Metrics) != 56 {
		t.Errorf("%d metrics, want 56", len(res.Metrics))
	}
	last := events[len(events)-1]
	if last.Stage != "pages" || last.Done != 7 || last.Total != 7 || last.Embedded != 7 {
		t.Errorf("last event %+v", last)
	}
}

func TestRunner_CacheAvoidsEmbeddingAgainAndResumes(t *testing.T) {
	ds := tinyQA(t)
	cache, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()

	// An interrupted run: the second EmbedPages call fails; what was embedded before is kept.
	broken := &fakeEmbedder{failAfter: 1}
	r := &Runner{Embedder: broken, Cache: cache, ModelID: "m1", PageBatch: 2}
	if _, err := r.Run(context.Background(), ds); !errors.Is(err, errFakeInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	// The rerun embeds only the 5 pages the first one did not finish.
	fe := &fakeEmbedder{}
	r.Embedder = fe
	first, err := r.Run(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if fe.pages != 5 || first.Embedded != 5 {
		t.Errorf("resumed run embedded %d pages (result says %d), want 5", fe.pages, first.Embedded)
	}
	if fe.queries != 0 {
		t.Errorf("resumed run embedded %d queries, want 0 (cached by the first run)", fe.queries)
	}
	// A full rerun embeds nothing and gives the same numbers.
	again := &fakeEmbedder{}
	r.Embedder = again
	second, err := r.Run(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if again.pages != 0 || again.queries != 0 || second.Embedded != 0 {
		t.Errorf("rerun embedded %d pages and %d queries", again.pages, again.queries)
	}
	for i := range first.Metrics {
		a, b := first.Metrics[i], second.Metrics[i]
		if a.Name != b.Name || (a.Value != b.Value && !(math.IsNaN(a.Value) && math.IsNaN(b.Value))) {
			t.Errorf("%s: %v then %v", a.Name, a.Value, b.Value)
		}
	}
	// Another model identity does not see these embeddings.
	other := &fakeEmbedder{}
	r.Embedder, r.ModelID = other, "m2"
	if _, err := r.Run(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	if other.pages != 7 {
		t.Errorf("another model embedded %d pages, want all 7", other.pages)
	}
}

func TestRunner_Cancelled(t *testing.T) {
	ds := tinyQA(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &Runner{Embedder: &fakeEmbedder{}}
	if _, err := r.Run(ctx, ds); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}

func TestRunner_RejectsUndecodablePages(t *testing.T) {
	ds := &Dataset{Name: "bad", Queries: []Query{{ID: "q", RunID: "0", Text: "q"}}, Qrels: Qrels{"q": {"a": 1}},
		Passages: []Passage{{DocID: "a", Image: []byte("not an image")}}}
	if _, err := (&Runner{Embedder: &fakeEmbedder{}}).Run(context.Background(), ds); err == nil {
		t.Error("an undecodable page was accepted")
	}
}
