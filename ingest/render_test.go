package ingest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colsmol/colsmol/ingest/pdfwrite"
	"github.com/colsmol/colsmol/internal/vlm"
)

var (
	sharedOnce sync.Once
	shared     *Renderer
	sharedErr  error
)

// testRenderer is one renderer for the package's tests (starting one compiles or loads the wasm module).
func testRenderer(t *testing.T) *Renderer {
	t.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = NewRendererWithOptions(RendererOptions{CacheDir: DefaultCacheDir(), Instances: 2})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// testPDF: page 1 A4 portrait with a black box in its top-left quarter; page 2 US letter landscape, blank
// except for a red bar across the bottom; page 3 A4 with a half-transparent grey box (a transparent page).
func testPDF() []byte {
	d := pdfwrite.New()
	p := d.AddPage(595, 842)
	p.Fill(0, 0, 0)
	p.Rect(0, 421, 297.5, 421, true)
	p.Text(320, 100, 24, true, "Hello (colsmol)")
	p2 := d.AddPage(792, 612)
	p2.Fill(1, 0, 0)
	p2.Rect(0, 0, 792, 100, true)
	p3 := d.AddPage(595, 842)
	p3.Alpha(0.5)
	p3.Fill(0, 0, 0)
	p3.Rect(100, 100, 200, 200, true)
	return d.Bytes(pdfwrite.Options{})
}

func at(img *vlm.RGB, x, y int) [3]uint8 {
	i := (y*img.W + x) * 3
	return [3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}
}

func TestLongestEdgeSize(t *testing.T) {
	// Worked examples of Idefics3's first resize (shared/research/models.md §2.5, cross-checked there against
	// colpali's tests and a third-party implementation).
	for _, c := range []struct{ w, h, W, H int }{
		{1280, 800, 2048, 1280},
		{16, 32, 1024, 2048},
		{1654, 2339, 1448, 2048},
		{1000, 1000, 2048, 2048},
	} {
		W, H := LongestEdgeSize(float64(c.w), float64(c.h), 2048)
		if W != c.W || H != c.H {
			t.Errorf("%dx%d -> %dx%d, want %dx%d", c.w, c.h, W, H, c.W, c.H)
		}
	}
}

func TestRenderPDF(t *testing.T) {
	r := testRenderer(t)
	data := testPDF()
	var sizes []image.Point
	var imgs []*vlm.RGB
	err := r.Pages(context.Background(), "test.pdf", data, func(i, n int, img image.Image) error {
		if n != 3 || i != len(imgs) {
			t.Errorf("page %d of %d", i, n)
		}
		rgb := img.(*vlm.RGB)
		imgs = append(imgs, rgb)
		sizes = append(sizes, image.Point{rgb.W, rgb.H})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A4 at a 2048 longest edge: 595/842*2048 = 1447.3 -> 1447 -> even 1448. Letter landscape: 612/792*2048 =
	// 1582.5 -> 1582.
	want := []image.Point{{1448, 2048}, {2048, 1582}, {1448, 2048}}
	for i := range want {
		if sizes[i] != want[i] {
			t.Errorf("page %d: %v, want %v", i+1, sizes[i], want[i])
		}
	}
	p1 := imgs[0]
	if c := at(p1, 100, 100); c != [3]uint8{0, 0, 0} {
		t.Errorf("page 1 top-left quarter = %v, want black", c)
	}
	if c := at(p1, 1400, 1000); c != [3]uint8{255, 255, 255} {
		t.Errorf("page 1 right middle = %v, want white", c)
	}
	p2 := imgs[1]
	if c := at(p2, 1000, 1570); c != [3]uint8{255, 0, 0} {
		t.Errorf("page 2 bottom = %v, want red", c)
	}
	if c := at(p2, 1000, 100); c != [3]uint8{255, 255, 255} {
		t.Errorf("page 2 top = %v, want white", c)
	}
	// The transparent page: white background (not PDFium's transparent black), grey box.
	p3 := imgs[2]
	if c := at(p3, 1400, 100); c != [3]uint8{255, 255, 255} {
		t.Errorf("page 3 background = %v, want white", c)
	}
	// Box from (100,100) to (300,300) pt from the bottom-left: centre 200 pt -> x 688 px, y (842-200)/842*2048.
	if c := at(p3, 688, 1561); c[0] < 120 || c[0] > 135 || c[0] != c[1] || c[1] != c[2] {
		t.Errorf("page 3 box = %v, want grey ~128", c)
	}
}

func TestRenderAtDPI(t *testing.T) {
	r := testRenderer(t)
	sizes, err := r.PageSizes(context.Background(), testPDF(), AtDPI(150))
	if err != nil {
		t.Fatal(err)
	}
	// round(595*150/72) = 1240, round(842*150/72) = 1754 (PDFium's own DPI rendering would give 1755).
	if len(sizes) != 3 || sizes[0] != (image.Point{1240, 1754}) || sizes[1] != (image.Point{1650, 1275}) {
		t.Errorf("sizes %v", sizes)
	}
	var got image.Point
	err = r.PagesSized(context.Background(), "x.pdf", testPDF(), AtDPI(150), func(i, n int, img image.Image) error {
		if i == 0 {
			got = img.Bounds().Size()
		}
		return nil
	})
	if err != nil || got != sizes[0] {
		t.Errorf("rendered %v (%v), planned %v", got, err, sizes[0])
	}
}

func TestBadInput(t *testing.T) {
	r := testRenderer(t)
	good := testPDF()
	locked := pdfwrite.New()
	locked.AddPage(200, 200).Text(10, 10, 12, false, "secret")
	huge := pdfwrite.New()
	huge.AddPage(14400, 14400)
	var bomb bytes.Buffer
	// A PNG header announcing 60000x60000 pixels: a decompression bomb.
	png.Encode(&bomb, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := bomb.Bytes()
	b[16], b[17], b[18], b[19] = 0, 0, 0xea, 0x60
	b[20], b[21], b[22], b[23] = 0, 0, 0xea, 0x60
	for _, c := range []struct {
		name, data, want string
		size             SizeFunc
	}{
		{"empty", "", "empty file", nil},
		{"truncated", string(good[:200]), "corrupt or truncated", nil},
		{"garbage", "%PDF-1.7\nthis is not a pdf at all", "corrupt or truncated", nil},
		{"password", string(locked.Bytes(pdfwrite.Options{RequirePassword: true})), "password", nil},
		{"too many pixels", string(huge.Bytes(pdfwrite.Options{})), "lower --dpi", AtDPI(600)},
		{"not an image", "GIF89a broken", "not a readable PDF or image", nil},
		{"bomb", string(b), "not a readable PDF or image", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			size := c.size
			if size == nil {
				size = FitLongestEdge(DefaultLongestEdge)
			}
			pages := 0
			err := r.PagesSized(context.Background(), c.name, []byte(c.data), size, func(i, n int, img image.Image) error { pages++; return nil })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			if !strings.Contains(err.Error(), ";") {
				t.Errorf("message %q does not say what to do", err)
			}
		})
	}
	// The renderer still works after all that.
	if _, err := r.PageSizes(context.Background(), good, FitLongestEdge(1024)); err != nil {
		t.Fatal(err)
	}
}

func TestImageFile(t *testing.T) {
	r := testRenderer(t)
	src := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range src.Pix {
		src.Pix[i] = 255
	}
	src.Set(5, 5, color.RGBA{10, 200, 30, 255})
	var buf bytes.Buffer
	png.Encode(&buf, src)
	var got *vlm.RGB
	err := r.Pages(context.Background(), "x.png", buf.Bytes(), func(i, n int, img image.Image) error {
		if i != 0 || n != 1 {
			t.Errorf("page %d of %d", i, n)
		}
		got = img.(*vlm.RGB)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.W != 40 || got.H != 30 || at(got, 5, 5) != [3]uint8{10, 200, 30} {
		t.Errorf("decoded %dx%d, pixel %v", got.W, got.H, at(got, 5, 5))
	}
	buf.Reset()
	jpeg.Encode(&buf, src, nil)
	sizes, err := r.PageSizes(context.Background(), buf.Bytes(), FitLongestEdge(2048))
	if err != nil || len(sizes) != 1 || sizes[0] != (image.Point{40, 30}) {
		t.Errorf("jpeg sizes %v, %v", sizes, err)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	r, err := NewRendererWithOptions(RendererOptions{PageTimeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Pages(context.Background(), "x.pdf", testPDF(), func(i, n int, img image.Image) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "took longer") {
		t.Errorf("err = %v, want a timeout", err)
	}
	// Time spent in the caller's page callback does not count against PDFium's timeout.
	slow, err := NewRendererWithOptions(RendererOptions{PageTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	err = slow.Pages(context.Background(), "x.pdf", testPDF(), func(i, n int, img image.Image) error {
		time.Sleep(700 * time.Millisecond)
		return nil
	})
	if err != nil {
		t.Errorf("slow consumer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = testRenderer(t).Pages(ctx, "x.pdf", testPDF(), func(i, n int, img image.Image) error { return nil })
	if err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestConcurrentDocuments(t *testing.T) {
	r := testRenderer(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[g] = r.PagesSized(context.Background(), "x.pdf", testPDF(), FitLongestEdge(512), func(i, n int, img image.Image) error {
				if c := at(img.(*vlm.RGB), 10, 10); i == 0 && c != [3]uint8{0, 0, 0} {
					t.Errorf("page 1 pixel %v", c)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkRenderPage renders an A4 page with text, boxes and transparency at the default size (1448×2048)
// and copies it out of WebAssembly memory: the render stage's cost per page.
func BenchmarkRenderPage(b *testing.B) {
	r, err := NewRenderer("")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	data := testPDF()
	pages := 0
	start := time.Now()
	for b.Loop() {
		err := r.Pages(context.Background(), "bench.pdf", data, func(i, n int, img image.Image) error { pages++; return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(pages), "ms/page")
	b.ReportMetric(float64(pages)/time.Since(start).Seconds(), "pages/s")
}
