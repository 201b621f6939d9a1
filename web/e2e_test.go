package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colsmol/colsmol/generate"
	"github.com/colsmol/colsmol/web"
	"github.com/colsmol/colsmol/web/backend"
)

const testQuery = "quarterly revenue table"

// plantedLibrary is the standard library where alpha's page 2 carries the test query's own vectors (so it must
// rank first with a score of about one per query vector) and alpha's page 1, cut into 2×2 tiles, carries the
// query's first vector at tile 1 (top right), patch 10 (row 1, col 2): page cell (1, 10) of a 16×16 map.
func plantedLibrary(t *testing.T) (*library, [][]float32) {
	em := tinyRetriever(t)
	q, err := em.EmbedQuery(context.Background(), testQuery)
	if err != nil {
		t.Fatalf("embed the test query: %v", err)
	}
	return newLibrary(t, q, map[int][]float32{1*64 + 10: q[0]}), q
}

func TestSearch_FindsPlantedPage(t *testing.T) {
	lib, q := plantedLibrary(t)
	_, base := startServer(t, lib.options(tinyRetriever(t)))

	status, body, _ := call(t, "GET", base+"/api/v1/search?k=3&q="+url.QueryEscape(testQuery), nil)
	if status != 200 {
		t.Fatalf("search: %d %s", status, body)
	}
	res := decode[web.SearchResponse](t, body)
	if res.Query != testQuery || res.K != 3 || len(res.Results) != 3 {
		t.Fatalf("got query %q, k %d, %d results; want %q, 3, 3", res.Query, res.K, len(res.Results), testQuery)
	}
	top := res.Results[0]
	if top.DocID != lib.alpha.ID || top.Page != 2 || top.Rank != 1 || top.Path != "/docs/alpha report.pdf" {
		t.Errorf("top result %+v; want alpha page 2", top)
	}
	if want := float32(len(q)); math.Abs(float64(top.Score-want)) > 0.02*float64(want) {
		t.Errorf("top score %v; want about %v (one per query vector)", top.Score, want)
	}
	for i, r := range res.Results {
		if r.Rank != i+1 || (i > 0 && r.Score > res.Results[i-1].Score) {
			t.Errorf("result %d: rank %d score %v out of order", i, r.Rank, r.Score)
		}
		if r.ImageURL != "/api/v1/pages/"+r.DocID+"/"+strconv.Itoa(r.Page)+"/image" {
			t.Errorf("image_url %q", r.ImageURL)
		}
		if status, img, _ := call(t, "GET", base+r.ImageURL, nil); status != 200 || len(img) < 100 {
			t.Errorf("GET %s: %d", r.ImageURL, status)
		}
	}

	t.Run("POST", func(t *testing.T) {
		status, body, _ := call(t, "POST", base+"/api/v1/search", strings.NewReader(`{"query": "`+testQuery+`", "k": 1}`), "Content-Type", "application/json")
		res := decode[web.SearchResponse](t, body)
		if status != 200 || len(res.Results) != 1 || res.Results[0].DocID != lib.alpha.ID || res.Results[0].Page != 2 {
			t.Fatalf("POST search: %d %+v; want alpha page 2 alone", status, res.Results)
		}
	})
	t.Run("ServerRenderedPage", func(t *testing.T) {
		status, body, _ := call(t, "GET", base+"/?q="+url.QueryEscape(testQuery), nil)
		html := string(body)
		if status != 200 || strings.Count(html, `class="card"`) != 3 {
			t.Fatalf("GET /?q=: %d with %d cards; want 200 with 3", status, strings.Count(html, `class="card"`))
		}
		if !strings.Contains(html, "page 2 · score") || !strings.Contains(html, `href="/view/`+lib.alpha.ID+`/2?q=quarterly&#43;revenue&#43;table"`) {
			t.Error("the top card lacks its page, score or page link")
		}
		if strings.Contains(html, "<img src=x") {
			t.Error("a document name reached the results unescaped")
		}
	})
}

func TestSimMap_PeaksAtPlantedPatch(t *testing.T) {
	lib, _ := plantedLibrary(t)
	_, base := startServer(t, lib.options(tinyRetriever(t)))
	get := func(doc string, page int, extra string) (int, []byte) {
		status, body, _ := call(t, "GET", base+"/api/v1/pages/"+doc+"/"+strconv.Itoa(page)+"/simmap?q="+url.QueryEscape(testQuery)+extra, nil)
		return status, body
	}
	status, body := get(lib.alpha.ID, 1, "")
	if status != 200 {
		t.Fatalf("simmap: %d %s", status, body)
	}
	m := decode[web.SimMap](t, body)
	if m.TileRows != 2 || m.TileCols != 2 || m.Rows != 16 || m.Cols != 16 || len(m.Values) != 256 || len(m.Global) != 64 {
		t.Fatalf("map %d×%d tiles, %d×%d patches, %d values, %d global; want 2×2, 16×16, 256, 64",
			m.TileRows, m.TileCols, m.Rows, m.Cols, len(m.Values), len(m.Global))
	}
	best := 0
	for i, v := range m.Values {
		if v > m.Values[best] {
			best = i
		}
	}
	if best/16 != 1 || best%16 != 10 {
		t.Errorf("hottest patch at (%d, %d); want the planted one at (1, 10)", best/16, best%16)
	}
	if v := m.Values[best]; v < 0.98 || v > 1.02 || m.Max != v {
		t.Errorf("hottest value %v (max %v); want about 1, a unit vector against itself", v, m.Max)
	}

	t.Run("PNG", func(t *testing.T) {
		status, body := get(lib.alpha.ID, 1, "&format=png")
		img, err := png.Decode(bytes.NewReader(body))
		if status != 200 || err != nil {
			t.Fatalf("png: %d %v", status, err)
		}
		if b := img.Bounds(); b.Dx() != 16 || b.Dy() != 16 {
			t.Fatalf("png is %v; want 16×16, one pixel per patch", b)
		}
		_, _, _, a := img.At(10, 1).RGBA()
		_, _, _, a0 := img.At(0, 15).RGBA()
		if a>>8 != 210 || a0>>8 >= 210 {
			t.Errorf("alpha at the planted patch %d, elsewhere %d; want 210 and less", a>>8, a0>>8)
		}
	})
	t.Run("Layouts", func(t *testing.T) {
		for _, tt := range []struct {
			doc              string
			page, rows, cols int
			global           bool
		}{{lib.alpha.ID, 2, 8, 8, false}, {lib.bet.ID, 1, 8, 16, true}} {
			status, body := get(tt.doc, tt.page, "")
			m := decode[web.SimMap](t, body)
			if status != 200 || m.Rows != tt.rows || m.Cols != tt.cols || (len(m.Global) == 64) != tt.global {
				t.Errorf("%s page %d: %d, %d×%d, global %d; want %d×%d", tt.doc, tt.page, status, m.Rows, m.Cols, len(m.Global), tt.rows, tt.cols)
			}
		}
	})
}

// gatedIndexer holds the real indexer at its first embedded page until the test releases it.
type gatedIndexer struct {
	web.Indexer
	once             sync.Once
	reached, release chan struct{}
}

func (g *gatedIndexer) Index(ctx context.Context, paths []string, progress func(web.Progress)) (*web.IndexSummary, error) {
	return g.Indexer.Index(ctx, paths, func(p web.Progress) {
		progress(p)
		if p.Page >= 1 {
			g.once.Do(func() { close(g.reached); <-g.release })
		}
	})
}

func waitJob(t *testing.T, base, statusURL string) web.JobStatus {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		_, body, _ := call(t, "GET", base+statusURL, nil)
		j := decode[web.JobStatus](t, body)
		if j.Status == web.JobDone || j.Status == web.JobFailed {
			return j
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish in 2 minutes", statusURL)
	return web.JobStatus{}
}

func TestUpload_IndexesWhileSearching(t *testing.T) {
	em := tinyRetriever(t)
	lib := newLibrary(t, nil, nil)
	gate := &gatedIndexer{Indexer: backend.Indexer{Store: lib.st, Embedder: em, Renderer: renderer(t)},
		reached: make(chan struct{}), release: make(chan struct{})}
	o := lib.options(em)
	o.Indexer = gate
	_, base := startServer(t, o)

	red, blue := pngFile(t, 600, 800, color.RGBA{200, 30, 30, 255}), pngFile(t, 800, 600, color.RGBA{30, 30, 200, 255})
	body, ct := multipartBody(t, [3]string{"file", "scan one.png", string(red)}, [3]string{"file", "chart <2>.png", string(blue)})
	status, b, res := call(t, "POST", base+"/api/v1/documents", body, "Content-Type", ct)
	if status != http.StatusAccepted {
		t.Fatalf("upload: %d %s; want 202", status, b)
	}
	job := decode[web.JobStatus](t, b)
	if job.JobID == "" || job.StatusURL != "/api/v1/jobs/"+job.JobID || res.Header.Get("Location") != job.StatusURL ||
		strings.Join(job.Files, "|") != "scan one.png|chart _2_.png" {
		t.Fatalf("upload answer %+v (Location %q)", job, res.Header.Get("Location"))
	}

	select {
	case <-gate.reached:
	case <-time.After(2 * time.Minute):
		t.Fatal("the indexer did not embed a page in 2 minutes")
	}
	// The indexer is in the middle of the upload: searches must still be answered.
	for range 3 {
		status, b, _ := call(t, "GET", base+"/api/v1/search?q=revenue", nil)
		if status != 200 || len(decode[web.SearchResponse](t, b).Results) != 3 {
			t.Fatalf("search during indexing: %d %s", status, b)
		}
	}
	_, b, _ = call(t, "GET", base+job.StatusURL, nil)
	if j := decode[web.JobStatus](t, b); j.Status != web.JobRunning || j.Message == "" {
		t.Errorf("job during indexing: %+v; want running with a message", j)
	}
	close(gate.release)

	done := waitJob(t, base, job.StatusURL)
	if done.Status != web.JobDone || len(done.Documents) != 2 || len(done.Failed) != 0 || done.Progress != 1 {
		t.Fatalf("finished job %+v; want done with 2 documents", done)
	}
	_, b, _ = call(t, "GET", base+"/api/v1/documents", nil)
	docs := decode[web.DocumentsResponse](t, b).Documents
	names := map[string]web.DocumentInfo{}
	for _, d := range docs {
		names[d.Name] = d
	}
	up := names["scan one.png"]
	if len(docs) != 4 || up.Pages != 1 || filepath.Dir(up.Path) != filepath.Clean(o.UploadDir) {
		t.Fatalf("documents after upload: %+v", docs)
	}
	if _, ok := names["chart _2_.png"]; !ok {
		t.Fatalf("the second upload is not listed: %+v", docs)
	}
	if status, _, _ := call(t, "GET", base+"/api/v1/pages/"+up.DocID+"/1/image?size=thumb", nil); status != 200 {
		t.Errorf("thumbnail of the uploaded page: %d", status)
	}

	t.Run("SameBytesAgain", func(t *testing.T) {
		body, ct := multipartBody(t, [3]string{"file", "scan one.png", string(red)})
		status, b, _ := call(t, "POST", base+"/api/v1/documents?wait=true", body, "Content-Type", ct)
		j := decode[web.JobStatus](t, b)
		if status != 200 || j.Status != web.JobDone || strings.Join(j.Files, "") != "scan one.png" || len(j.Documents) != 1 || j.Documents[0].DocID != up.DocID {
			t.Fatalf("re-upload: %d %+v; want done, the same file and document", status, j)
		}
	})
	t.Run("SameNameOtherBytes", func(t *testing.T) {
		green := pngFile(t, 500, 700, color.RGBA{30, 160, 60, 255})
		body, ct := multipartBody(t, [3]string{"file", "scan one.png", string(green)})
		status, b, _ := call(t, "POST", base+"/api/v1/documents?wait=1", body, "Content-Type", ct)
		j := decode[web.JobStatus](t, b)
		if status != 200 || j.Status != web.JobDone || strings.Join(j.Files, "") != "scan one-2.png" {
			t.Fatalf("upload of other bytes under a taken name: %d %+v; want it saved as scan one-2.png", status, j)
		}
	})
	t.Run("SameBytesOtherName", func(t *testing.T) {
		// The index already holds these bytes as "chart _2_.png": the job points at that document and the
		// duplicate file does not stay in the upload folder.
		body, ct := multipartBody(t, [3]string{"file", "copy of chart.png", string(blue)})
		status, b, _ := call(t, "POST", base+"/api/v1/documents?wait=1", body, "Content-Type", ct)
		j := decode[web.JobStatus](t, b)
		if status != 200 || j.Status != web.JobDone || len(j.Documents) != 1 || j.Documents[0].Name != "chart _2_.png" {
			t.Fatalf("upload of indexed bytes under a new name: %d %+v; want done with the existing document", status, j)
		}
		if _, err := os.Stat(filepath.Join(o.UploadDir, "copy of chart.png")); !os.IsNotExist(err) {
			t.Errorf("the duplicate upload was left in the upload folder (%v)", err)
		}
	})
	t.Run("DeleteRemovesTheFile", func(t *testing.T) {
		if status, _, _ := call(t, "DELETE", base+"/api/v1/documents/"+up.DocID, nil); status != 204 {
			t.Fatalf("delete: %d", status)
		}
		if _, err := os.Stat(up.Path); !os.IsNotExist(err) {
			t.Errorf("the uploaded file %s is still there after its document was deleted (%v)", up.Path, err)
		}
	})
}

// tinyGenerator opens the tiny test generator, skipping when it is not built.
func tinyGenerator(t *testing.T) *generate.Generator {
	g := optionalGenerator(t)
	if g == nil {
		t.Skipf("%s not found: the tiny generator is not built yet", generatorDir)
	}
	return g
}

// optionalGenerator opens the tiny test generator, or returns nil when it is not built.
func optionalGenerator(t *testing.T) *generate.Generator {
	if _, err := os.Stat(filepath.Join(modelsDir, "READY")); err != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(generatorDir, "config.json")); err != nil {
		return nil
	}
	initORT(t)
	g, err := generate.Open(generatorDir, generate.Options{Threads: 1})
	if err != nil {
		t.Fatalf("open the tiny generator: %v", err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func TestAsk_StreamsAnswer(t *testing.T) {
	lib, _ := plantedLibrary(t)
	o := lib.options(tinyRetriever(t))
	o.Answerer = backend.Answerer{Store: lib.st, Embedder: tinyRetriever(t), Generator: tinyGenerator(t), Params: generate.Params{MaxNewTokens: 6}}
	_, base := startServer(t, o)

	req, _ := http.NewRequest("POST", base+"/api/v1/ask", strings.NewReader(`{"question": "`+testQuery+`?", "k": 1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("ask: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var streamed strings.Builder
	var final web.Answer
	events := map[string]int{}
	sc := bufio.NewScanner(res.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
			events[event]++
		case strings.HasPrefix(line, "data: ") && event == "token":
			var tok struct{ Text string }
			if err := json.Unmarshal([]byte(line[6:]), &tok); err != nil {
				t.Fatalf("token data %q: %v", line, err)
			}
			streamed.WriteString(tok.Text)
		case strings.HasPrefix(line, "data: ") && event == "done":
			if err := json.Unmarshal([]byte(line[6:]), &final); err != nil {
				t.Fatalf("done data %q: %v", line, err)
			}
		case strings.HasPrefix(line, "data: ") && event == "error":
			t.Fatalf("error event: %s", line)
		}
	}
	if events["done"] != 1 || len(final.Tokens) == 0 || len(final.Tokens) > 6 {
		t.Fatalf("events %v, %d tokens; want one done event after 1 to 6 tokens", events, len(final.Tokens))
	}
	if streamed.String() != final.Answer {
		t.Errorf("streamed text %q; the final answer is %q", streamed.String(), final.Answer)
	}
	if len(final.Sources) != 1 || final.Sources[0].DocID != lib.alpha.ID || final.Sources[0].Page != 2 {
		t.Errorf("sources %+v; want alpha page 2", final.Sources)
	}

	t.Run("JSON", func(t *testing.T) {
		status, b, _ := call(t, "POST", base+"/api/v1/ask", strings.NewReader(`{"question": "`+testQuery+`?", "k": 1}`), "Content-Type", "application/json")
		ans := decode[web.Answer](t, b)
		if status != 200 || ans.Question == "" || len(ans.Tokens) == 0 || len(ans.Sources) != 1 {
			t.Fatalf("ask JSON: %d %+v", status, ans)
		}
		if strings.Join(strings.Fields(ans.Answer), " ") != strings.Join(strings.Fields(final.Answer), " ") {
			t.Errorf("greedy answers differ between the stream (%q) and JSON (%q)", final.Answer, ans.Answer)
		}
	})
}

// slowTokens delays every token of the real answerer, so that a stream outlasts the server's write timeout.
type slowTokens struct {
	web.Answerer
	gap time.Duration
}

func (s slowTokens) Ask(ctx context.Context, q string, k int, onToken func(string) error) (*web.Answer, error) {
	return s.Answerer.Ask(ctx, q, k, func(text string) error {
		time.Sleep(s.gap)
		if onToken == nil {
			return nil
		}
		return onToken(text)
	})
}

func TestServe_StreamOutlivesWriteTimeout(t *testing.T) {
	lib, _ := plantedLibrary(t)
	o := lib.options(tinyRetriever(t))
	real := backend.Answerer{Store: lib.st, Embedder: tinyRetriever(t), Generator: tinyGenerator(t), Params: generate.Params{MaxNewTokens: 6}}
	o.Answerer = slowTokens{Answerer: real, gap: 150 * time.Millisecond}
	o.WriteTimeout = 300 * time.Millisecond
	srv, base, cancel, done := serveOnLoopback(t, o)
	t.Cleanup(func() { cancel(); <-done; srv.Close() })

	for _, accept := range []string{"text/event-stream", "application/json"} {
		start := time.Now()
		status, body, _ := call(t, "POST", base+"/api/v1/ask", strings.NewReader(`{"question": "revenue?", "k": 1}`),
			"Content-Type", "application/json", "Accept", accept)
		took := time.Since(start)
		if took < o.WriteTimeout {
			t.Fatalf("%s: the answer took %v, less than the write timeout %v: the test proves nothing", accept, took, o.WriteTimeout)
		}
		ok := strings.Contains(string(body), `"tokens":[`)
		if accept == "text/event-stream" {
			ok = ok && strings.Contains(string(body), "event: done")
		}
		if status != 200 || !ok {
			t.Errorf("%s answer over %v with a %v write timeout: %d %.300s; want the whole answer", accept, took, o.WriteTimeout, status, body)
		}
	}
}
