package indexer

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
	"time"

	"github.com/colsmol/colsmol/internal/vlm"
)

func testPage(w, h int) *vlm.RGB {
	img := vlm.NewRGB(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := (y*w + x) * 3
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(x), uint8(y), uint8(x^y)
		}
	}
	return img
}

func TestDisplayImages(t *testing.T) {
	for _, c := range []struct{ w, h, tw, th, pw, ph int }{
		{1448, 2048, 181, 256, 905, 1280},
		{2048, 1582, 256, 198, 1280, 989},
		{200, 100, 200, 100, 200, 100}, // small images are not enlarged
	} {
		thumb, preview, err := displayImages(testPage(c.w, c.h))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []struct {
			data []byte
			w, h int
		}{{thumb, c.tw, c.th}, {preview, c.pw, c.ph}} {
			img, err := jpeg.Decode(bytes.NewReader(x.data))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != x.w || b.Dy() != x.h {
				t.Errorf("%dx%d: got %v, want %dx%d", c.w, c.h, b.Size(), x.w, x.h)
			}
		}
	}
	// The colours survive the scaling: a uniform page stays that colour.
	page := vlm.NewRGB(1000, 1400)
	for i := range page.Pix {
		page.Pix[i] = []uint8{200, 40, 90}[i%3]
	}
	thumb, _, _ := displayImages(page)
	img, _ := jpeg.Decode(bytes.NewReader(thumb))
	r, g, b, _ := img.At(50, 50).RGBA()
	if d := absDiff(r>>8, 200) + absDiff(g>>8, 40) + absDiff(b>>8, 90); d > 12 {
		t.Errorf("thumbnail colour %d,%d,%d, want about 200,40,90", r>>8, g>>8, b>>8)
	}
	_ = image.Point{}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// BenchmarkDisplayImages measures the thumbnail and preview of a 1448×2048 page (done by the render workers,
// overlapping inference).
func BenchmarkDisplayImages(b *testing.B) {
	page := testPage(1448, 2048)
	start := time.Now()
	n := 0
	for b.Loop() {
		if _, _, err := displayImages(page); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(n), "ms/page")
}
