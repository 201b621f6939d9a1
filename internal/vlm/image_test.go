package vlm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Goldens made by Pillow 9.4 / NumPy (scripts/goldens/vlm/images.py).
type imageGoldens struct {
	Images map[string]struct {
		File         string `json:"file"`
		W            int    `json:"w"`
		H            int    `json:"h"`
		Drop         string `json:"drop_sha256"`
		White        string `json:"white_sha256"`
		WhiteDiffers bool   `json:"white_differs"`
	} `json:"images"`
	Resize []struct {
		Image  string  `json:"image"`
		W      int     `json:"w"`
		H      int     `json:"h"`
		SHA    string  `json:"sha256"`
		Sample []uint8 `json:"sample"`
	} `json:"resize"`
	PixelValues []struct {
		Image  string    `json:"image"`
		Mode   string    `json:"mode"`
		Config string    `json:"config"`
		Rows   int       `json:"rows"`
		Cols   int       `json:"cols"`
		Shape  []int     `json:"shape"`
		SHA    string    `json:"sha256"`
		Frames []string  `json:"frames_sha256"`
		Sample []float32 `json:"sample"`
	} `json:"pixel_values"`
}

func loadImageGoldens(t testing.TB) *imageGoldens {
	var g imageGoldens
	readGolden(t, filepath.Join("testdata", "goldens.json"), &g)
	return &g
}

// readGolden decodes the JSON golden file at path into v.
func readGolden(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// pillowDecoded reads Pillow's decoded pixels, stored losslessly as PNG.
func pillowDecoded(t testing.TB, name, mode string) *RGB {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "decoded", name+"."+mode+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return ToRGB(img, AlphaDrop)
}

// unsupportedByDesign lists test images Pillow decodes but colsmol refuses (see README).
var unsupportedByDesign = map[string]bool{"jpeg_arith": true}

func TestDecodeExactFormats(t *testing.T) {
	g := loadImageGoldens(t)
	for name, want := range g.Images {
		if unsupportedByDesign[name] {
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "images", want.File))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []struct {
				mode AlphaMode
				sha  string
			}{{AlphaDrop, want.Drop}, {AlphaWhite, want.White}} {
				img, err := DecodeImage(data, m.mode)
				if err != nil {
					t.Fatal(err)
				}
				if img.W != want.W || img.H != want.H {
					t.Fatalf("size %dx%d, want %dx%d", img.W, img.H, want.W, want.H)
				}
				if got := shaHex(img.Pix); got != m.sha {
					ref := "drop"
					if m.mode == AlphaWhite && want.WhiteDiffers {
						ref = "white"
					}
					maxd, mean, _ := pixelDiff(img, pillowDecoded(t, name, ref))
					t.Errorf("mode %d: pixels differ from Pillow (max %d, mean %.3f)", m.mode, maxd, mean)
				}
			}
		})
	}
}

func pixelDiff(a, b *RGB) (maxd int, mean float64, differing float64) {
	if a.W != b.W || a.H != b.H {
		return 999, 999, 1
	}
	sum, n := 0, 0
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		if d > maxd {
			maxd = d
		}
		if d > 0 {
			n++
		}
		sum += d
	}
	return maxd, float64(sum) / float64(len(a.Pix)), float64(n) / float64(len(a.Pix))
}

// The fallback for JPEGs the exact decoder does not handle: Go's image/jpeg planes with libjpeg-style
// upsampling and colour conversion (yuv.go). Only the IDCT differs; the bar is at most 4 levels and
// 0.5 on average.
func TestJPEGFallbackNearPillow(t *testing.T) {
	g := loadImageGoldens(t)
	for name, want := range g.Images {
		if !strings.HasPrefix(name, "jpeg") || unsupportedByDesign[name] {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata", "images", want.File))
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Logf("%s: Go's decoder refuses it (%v); the exact decoder handles it", name, err)
			continue
		}
		got := ToRGB(img, AlphaDrop)
		maxd, mean, frac := pixelDiff(got, pillowDecoded(t, name, "drop"))
		t.Logf("%s: max %d, mean %.4f, %.2f%% of values differ", name, maxd, mean, 100*frac)
		if maxd > 4 || mean > 0.5 {
			t.Errorf("%s: max diff %d, mean %.4f; want ≤ 4 and ≤ 0.5", name, maxd, mean)
		}
	}
}

// Damaged files must give an error or an image, never a panic.
func TestDecodeDamagedFiles(t *testing.T) {
	seed := uint32(12345)
	rnd := func(n int) int {
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return int(seed % uint32(n))
	}
	for _, f := range []string{"jpeg420_smooth.jpg", "jpeg_progressive.jpg", "jpeg_prog_restart.jpg", "jpeg_optimize.jpg",
		"rgba.png", "gif_trns.gif", "webp_lossy.webp"} {
		data, err := os.ReadFile(filepath.Join("testdata", "images", f))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 150; i++ {
			b := append([]byte(nil), data...)
			switch i % 3 {
			case 0:
				b = b[:rnd(len(b))]
			default:
				for k := 0; k < 1+rnd(4); k++ {
					b[rnd(len(b))] = byte(rnd(256))
				}
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s mutation %d: panic %v", f, i, r)
					}
				}()
				_, _ = DecodeImage(b, AlphaWhite)
			}()
		}
	}
}

func TestDecodeArithmeticJPEGFails(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "images", "jpeg_arith.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeImage(data, AlphaDrop); err == nil {
		t.Error("arithmetic-coded JPEG: no error")
	}
}

func TestDecodeRejectsBombAndGarbage(t *testing.T) {
	// A valid PNG header announcing 60000×60000 pixels, with no image data.
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 60000)
	binary.BigEndian.PutUint32(ihdr[4:], 60000)
	ihdr[8], ihdr[9] = 8, 2
	writePNGChunk(&buf, "IHDR", ihdr)
	_, err := DecodeImage(buf.Bytes(), AlphaDrop)
	if !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("60000x60000 PNG: err = %v, want ErrImageTooLarge", err)
	}
	if !strings.Contains(err.Error(), "60000x60000") {
		t.Errorf("error does not name the size: %v", err)
	}
	// The same for a JPEG whose frame header says 60000×60000.
	jpg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0xEA, 0x60, 0xEA, 0x60, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
	if _, err := DecodeImage(jpg, AlphaDrop); !errors.Is(err, ErrImageTooLarge) {
		t.Errorf("60000x60000 JPEG: err = %v, want ErrImageTooLarge", err)
	}
	// The limit is configurable.
	data, _ := os.ReadFile(filepath.Join("testdata", "images", "wide.png"))
	old := SetMaxPixels(1000)
	_, err = DecodeImage(data, AlphaDrop)
	SetMaxPixels(old)
	if !errors.Is(err, ErrImageTooLarge) {
		t.Errorf("300x60 with a 1000-pixel limit: err = %v", err)
	}
	if _, err := DecodeImage(data, AlphaDrop); err != nil {
		t.Errorf("limit not restored: %v", err)
	}
	for name, b := range map[string][]byte{"empty": nil, "text": []byte("hello, not an image"), "truncated png": data[:100]} {
		if _, err := DecodeImage(b, AlphaDrop); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func writePNGChunk(buf *bytes.Buffer, typ string, data []byte) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(data)))
	buf.Write(l[:])
	buf.WriteString(typ)
	buf.Write(data)
	binary.BigEndian.PutUint32(l[:], crc32.ChecksumIEEE(append([]byte(typ), data...)))
	buf.Write(l[:])
}

func TestToRGBPremultiplied(t *testing.T) {
	// Go's image.RGBA is premultiplied; ToRGB must recover the straight colour before dropping alpha.
	m := image.NewRGBA(image.Rect(0, 0, 2, 1))
	copy(m.Pix, []uint8{100, 50, 0, 128, 10, 20, 30, 255})
	got := ToRGB(m, AlphaDrop).Pix
	want := []uint8{199, 100, 0, 10, 20, 30}
	if !bytes.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestResizeLanczosMatchesPillow(t *testing.T) {
	g := loadImageGoldens(t)
	srcs := map[string]*RGB{}
	for _, c := range g.Resize {
		src, ok := srcs[c.Image]
		if !ok {
			src = pillowDecoded(t, c.Image, "drop")
			srcs[c.Image] = src
		}
		got := ResizeLanczos(src, c.W, c.H)
		if got.W != c.W || got.H != c.H {
			t.Fatalf("%s → %dx%d: got %dx%d", c.Image, c.W, c.H, got.W, got.H)
		}
		if shaHex(got.Pix) != c.SHA {
			row := got.Pix[3*(c.H/2)*c.W:]
			t.Errorf("%s %dx%d → %dx%d differs from Pillow; middle row starts %v, Pillow %v",
				c.Image, src.W, src.H, c.W, c.H, row[:len(c.Sample)], c.Sample)
		}
	}
}

func BenchmarkDecodeJPEGPage(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "images", "jpeg_page.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		fn   func() error
	}{
		{"exact", func() error { _, err := decodeJPEGExact(data); return err }},
		{"stdlib", func() error { _, err := jpeg.Decode(bytes.NewReader(data)); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := bc.fn(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}
