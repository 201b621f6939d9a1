package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/ingest"
	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/web"
	"github.com/colsmol/colsmol/web/backend"
)

// The tiny test retriever, built by the modelbuild tests (testdata/models/READY marks it complete).
var (
	modelsDir    = filepath.Join("..", "testdata", "models")
	retrieverDir = filepath.Join(modelsDir, "tiny-colsmol")
	generatorDir = filepath.Join(modelsDir, "tiny-smolvlm")
)

var shared struct {
	once     sync.Once
	em       *embed.Embedder
	emErr    error
	rOnce    sync.Once
	renderer *ingest.Renderer
	rErr     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.em != nil {
		shared.em.Close()
	}
	if shared.renderer != nil {
		shared.renderer.Close()
	}
	os.Exit(code)
}

// initORT loads ONNX Runtime, skipping the test only when the library is truly missing.
func initORT(tb testing.TB) {
	tb.Helper()
	if _, err := ort.Init(""); err != nil {
		tb.Skipf("ONNX Runtime not found (run 'make ort' or set ONNXRUNTIME_LIB): %v", err)
	}
}

// tinyRetriever opens the tiny test retriever once for the whole package.
func tinyRetriever(tb testing.TB) *embed.Embedder {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(modelsDir, "READY")); err != nil {
		tb.Skipf("%s not found: the tiny test models are not built yet", filepath.Join(modelsDir, "READY"))
	}
	initORT(tb)
	shared.once.Do(func() { shared.em, shared.emErr = embed.Open(retrieverDir, embed.Options{Threads: 1}) })
	if shared.emErr != nil {
		tb.Fatalf("open the tiny retriever: %v", shared.emErr)
	}
	return shared.em
}

func renderer(tb testing.TB) *ingest.Renderer {
	tb.Helper()
	shared.rOnce.Do(func() { shared.renderer, shared.rErr = ingest.NewRenderer("") })
	if shared.rErr != nil {
		tb.Fatalf("start the renderer: %v", shared.rErr)
	}
	return shared.renderer
}

// noModel stands in for the embedder in tests of input checks, which must answer before any embedding: a
// request that reached it would get a 500 and fail the test.
type noModel struct{}

func (noModel) EmbedQuery(context.Context, string) ([][]float32, error) {
	return nil, errors.New("this test has no retrieval model")
}

// openStore opens a fresh index file in a temporary folder.
func openStore(tb testing.TB) (*index.Store, string) {
	tb.Helper()
	dir := tb.TempDir()
	db := filepath.Join(dir, "colsmol.db")
	st, err := index.Open(db, index.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatalf("open index: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st, db
}

const dim = 128

// randomUnit returns n random unit vectors.
func randomUnit(rng *rand.Rand, n int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		var ss float64
		for j := range v {
			x := rng.NormFloat64()
			v[j], ss = float32(x), ss+x*x
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(ss))
		}
		out[i] = v
	}
	return out
}

// pageSpec describes a synthetic page: its tile grid (0×0: not split), its size and patches to plant: image
// token index → vector.
type pageSpec struct {
	rows, cols int
	w, h       int
	plant      map[int][]float32
	prefix     [][]float32 // vectors placed before the image tokens (e.g. a query's own vectors)
	hue        color.RGBA
}

const textTokens = 4

// makePage builds an index.Page with random unit vectors, the planted ones, and drawn JPEG images.
func makePage(rng *rand.Rand, p pageSpec) index.Page {
	tiles := 1
	if p.rows > 0 {
		tiles = p.rows*p.cols + 1
	}
	nImg := tiles * 64
	vecs := append(append([][]float32{}, p.prefix...), randomUnit(rng, textTokens+nImg)...)
	start := len(p.prefix) + textTokens
	pos := make([]int, nImg)
	for i := range pos {
		pos[i] = start + i
	}
	for i, v := range p.plant {
		vecs[start+i] = v
	}
	if p.w == 0 {
		p.w, p.h = 600, 800
	}
	return index.Page{Width: p.w, Height: p.h, Tiles: index.Tiles{Rows: p.rows, Cols: p.cols},
		Thumb: drawPage(p.w/4, p.h/4, p.hue), Preview: drawPage(p.w, p.h, p.hue), Vectors: vecs, ImagePositions: pos}
}

// drawPage draws a page-like JPEG: white paper, a coloured title bar and grey text lines.
func drawPage(w, h int, hue color.RGBA) []byte {
	if hue.A == 0 {
		hue = color.RGBA{60, 90, 160, 255}
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			switch {
			case y > h/12 && y < h/6 && x > w/10 && x < w*9/10:
				c = hue
			case y > h/4 && (y/(h/40+1))%2 == 0 && x > w/10 && x < w*(7+(y/7)%3)/10:
				c = color.RGBA{150, 150, 150, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes()
}

// putDoc stores a synthetic document.
func putDoc(tb testing.TB, st *index.Store, path string, pages ...index.Page) index.Document {
	tb.Helper()
	err := st.Put(index.Document{Path: path, SHA256: strings.Repeat("ab", 32), Size: 1234, ModTime: time.Now(), IndexedAt: time.Now()}, pages)
	if err != nil {
		tb.Fatalf("put %s: %v", path, err)
	}
	d, err := st.ByPath(path)
	if err != nil {
		tb.Fatalf("read back %s: %v", path, err)
	}
	return *d
}

// startServer serves o on a loopback port for the test.
func startServer(tb testing.TB, o web.Options) (*web.Server, string) {
	tb.Helper()
	srv, err := web.New(o)
	if err != nil {
		tb.Fatalf("web.New: %v", err)
	}
	ts := httptest.NewServer(srv)
	tb.Cleanup(func() { ts.Close(); srv.Close() })
	return srv, ts.URL
}

// serveOnLoopback builds a server from o and runs its own Serve (its timeouts and graceful shutdown,
// unlike startServer's httptest server) on a loopback port. It returns the server, the base URL, the
// function that ends Serve's context and the channel Serve's result arrives on.
func serveOnLoopback(tb testing.TB, o web.Options) (*web.Server, string, context.CancelFunc, <-chan error) {
	tb.Helper()
	srv, err := web.New(o)
	if err != nil {
		tb.Fatalf("web.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return srv, "http://" + ln.Addr().String(), cancel, done
}

// call sends a request and returns the status, the body and the response.
func call(tb testing.TB, method, url string, body io.Reader, header ...string) (int, []byte, *http.Response) {
	tb.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res.StatusCode, b, res
}

// decode unmarshals a JSON body, failing the test when it is not JSON.
func decode[T any](tb testing.TB, b []byte) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatalf("not JSON: %v: %.300s", err, b)
	}
	return v
}

// wantError checks a 4xx/5xx answer with a {"error": "..."} body mentioning want.
func wantError(tb testing.TB, status int, body []byte, res *http.Response, wantStatus int, want string) {
	tb.Helper()
	if status != wantStatus {
		tb.Errorf("status %d; want %d (body %.200s)", status, wantStatus, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("content type %q; want application/json", ct)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		tb.Errorf("body %.200q is not {\"error\": \"...\"}", body)
	}
	if !strings.Contains(strings.ToLower(e.Error), strings.ToLower(want)) {
		tb.Errorf("error %q; want it to mention %q", e.Error, want)
	}
}

// multipartBody builds a multipart body with one part per (field, filename, content) triple; the file name is
// written as given, so tests can send names a browser would not.
func multipartBody(tb testing.TB, parts ...[3]string) (io.Reader, string) {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+p[0]+`"; filename="`+strings.ReplaceAll(p[1], `\`, `\\`)+`"`)
		h.Set("Content-Type", "application/octet-stream")
		pw, err := w.CreatePart(h)
		if err != nil {
			tb.Fatal(err)
		}
		pw.Write([]byte(p[2]))
	}
	w.Close()
	return &buf, w.FormDataContentType()
}

// pngFile encodes a page-like PNG for uploads.
func pngFile(tb testing.TB, w, h int, hue color.RGBA) []byte {
	tb.Helper()
	img, err := jpeg.Decode(bytes.NewReader(drawPage(w, h, hue)))
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// library is the standard test index: two documents, one with a name that needs escaping.
type library struct {
	st         *index.Store
	db         string
	alpha, bet index.Document
}

const evilName = `beta <img src=x onerror=alert(1)> & "scan".png`

func newLibrary(tb testing.TB, alphaPage2Prefix [][]float32, plant map[int][]float32) *library {
	tb.Helper()
	st, db := openStore(tb)
	rng := rand.New(rand.NewPCG(1, 2))
	a := putDoc(tb, st, "/docs/alpha report.pdf",
		makePage(rng, pageSpec{rows: 2, cols: 2, plant: plant, hue: color.RGBA{180, 60, 40, 255}}),
		makePage(rng, pageSpec{prefix: alphaPage2Prefix, hue: color.RGBA{40, 140, 80, 255}}))
	b := putDoc(tb, st, "/docs/"+evilName,
		makePage(rng, pageSpec{rows: 1, cols: 2, w: 900, h: 450}))
	return &library{st: st, db: db, alpha: a, bet: b}
}

func (l *library) options(em web.Embedder) web.Options {
	return web.Options{Store: backend.Store{St: l.st}, Embedder: em, UploadDir: l.db + ".uploads"}
}
