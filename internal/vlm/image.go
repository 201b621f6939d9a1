package vlm

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"sync/atomic"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// RGB is an 8-bit RGB image: 3 bytes per pixel, rows top to bottom, no padding. It implements image.Image.
type RGB struct {
	W, H int
	Pix  []uint8
}

// NewRGB returns a black w×h image.
func NewRGB(w, h int) *RGB { return &RGB{W: w, H: h, Pix: make([]uint8, 3*w*h)} }

// ColorModel implements image.Image.
func (m *RGB) ColorModel() color.Model { return color.RGBAModel }

// Bounds implements image.Image.
func (m *RGB) Bounds() image.Rectangle { return image.Rect(0, 0, m.W, m.H) }

// At implements image.Image.
func (m *RGB) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= m.W || y >= m.H {
		return color.RGBA{}
	}
	i := 3 * (y*m.W + x)
	return color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], 255}
}

// AlphaMode says how transparency is removed when an image becomes RGB.
type AlphaMode int

const (
	// AlphaDrop keeps the colour channels and ignores alpha, as Pillow's convert("RGB") does; colpali-engine
	// does this before its processor, so it is the mode for the retriever.
	AlphaDrop AlphaMode = iota
	// AlphaWhite composites the image over an opaque white background with Pillow's alpha_composite
	// arithmetic, as transformers' convert_to_rgb does; the mode for the generator (SmolVLM).
	AlphaWhite
)

// DefaultMaxPixels is the default limit on width×height of a decoded image: Pillow's DecompressionBombError
// threshold (2 × Image.MAX_IMAGE_PIXELS = 2 × 89,478,485). Such an image takes 537 MB as RGB.
const DefaultMaxPixels = 178_956_970

var maxPixels atomic.Int64

func init() { maxPixels.Store(DefaultMaxPixels) }

// SetMaxPixels changes the largest width×height DecodeImage accepts (n ≤ 0 restores the default) and returns
// the previous limit.
func SetMaxPixels(n int64) int64 {
	if n <= 0 {
		n = DefaultMaxPixels
	}
	return maxPixels.Swap(n)
}

// ErrImageTooLarge is returned (wrapped) for images whose header announces more pixels than the limit.
var ErrImageTooLarge = errors.New("image too large")

// DecodeImage decodes a PNG, JPEG, GIF (first frame), BMP, TIFF or WebP file to RGB with the pixel values
// Pillow gives (see the package README for the exact figures per format). The size in the header is checked
// against the pixel limit (SetMaxPixels) before any pixel memory is allocated.
func DecodeImage(data []byte, mode AlphaMode) (*RGB, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode image: %w (supported: PNG, JPEG, GIF, BMP, TIFF, WebP)", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("decode %s image: empty size %dx%d", format, cfg.Width, cfg.Height)
	}
	if limit := maxPixels.Load(); int64(cfg.Width)*int64(cfg.Height) > limit {
		return nil, fmt.Errorf("decode %s image: %dx%d is %d pixels, more than the limit of %d (a decompression bomb?): %w",
			format, cfg.Width, cfg.Height, int64(cfg.Width)*int64(cfg.Height), limit, ErrImageTooLarge)
	}
	r := bytes.NewReader(data)
	var img image.Image
	switch format {
	case "jpeg":
		if out, err := decodeJPEGExact(data); err == nil {
			return out, nil
		} else if errors.Is(err, ErrImageTooLarge) {
			return nil, fmt.Errorf("decode jpeg image: %w", err)
		}
		// Something the exact decoder does not handle (or a damaged file): Go's decoder with libjpeg-style
		// upsampling and colour conversion, within a few levels of Pillow.
		img, err = jpeg.Decode(r)
		if err == nil {
			if ycc, ok := img.(*image.YCbCr); ok {
				return jpegYCbCrToRGB(ycc), nil
			}
		}
	case "png":
		img, err = png.Decode(r)
	case "gif":
		if mode == AlphaDrop {
			// Go's decoder blanks the palette entry of the transparent index; Pillow's convert("RGB") keeps its
			// colour. Decoding a copy whose first frame has the transparency flag cleared keeps it too.
			r = bytes.NewReader(gifWithoutTransparency(data))
		}
		img, err = gif.Decode(r)
	case "bmp":
		img, err = bmp.Decode(r)
	case "tiff":
		img, err = tiff.Decode(r)
	case "webp":
		img, err = webp.Decode(r)
		if err == nil {
			switch m := img.(type) {
			case *image.YCbCr:
				return webpYUVToRGB(m, nil, 0, mode), nil
			case *image.NYCbCrA:
				return webpYUVToRGB(&m.YCbCr, m.A, m.AStride, mode), nil
			}
		}
	default:
		return nil, fmt.Errorf("decode image: format %q is not supported (PNG, JPEG, GIF, BMP, TIFF, WebP)", format)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s image: %w", format, err)
	}
	return ToRGB(img, mode), nil
}

// LoadImage reads an image file and decodes it with DecodeImage.
func LoadImage(path string, mode AlphaMode) (*RGB, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load image: %w", err)
	}
	img, err := DecodeImage(data, mode)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// ToRGB converts a decoded image to RGB as Pillow would convert the same pixels: alpha dropped or composited
// on white (mode), 16-bit samples reduced to their high byte (16-bit grey is clipped at 255, as Pillow's
// I;16 → RGB conversion does), CMYK converted with Pillow's formula. Go's premultiplied *image.RGBA is
// un-premultiplied first.
func ToRGB(img image.Image, mode AlphaMode) *RGB {
	if m, ok := img.(*RGB); ok {
		return &RGB{W: m.W, H: m.H, Pix: append([]uint8(nil), m.Pix...)}
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := NewRGB(w, h)
	put := func(i int, r, g, bl, a uint8) {
		if a != 255 && mode == AlphaWhite {
			r, g, bl = compositeWhite(r, a), compositeWhite(g, a), compositeWhite(bl, a)
		}
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = r, g, bl
	}
	switch m := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				put(3*(y*w+x), row[4*x], row[4*x+1], row[4*x+2], row[4*x+3])
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				r, g, bl, a := row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]
				if a != 255 {
					r, g, bl = unpremul(r, a), unpremul(g, a), unpremul(bl, a)
				}
				put(3*(y*w+x), r, g, bl, a)
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				i := 3 * (y*w + x)
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = v, v, v
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+2*w]
			for x := 0; x < w; x++ {
				v := uint8(255)
				if row[2*x] == 0 {
					v = row[2*x+1]
				}
				i := 3 * (y*w + x)
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = v, v, v
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := 0; x < w; x++ {
				put(3*(y*w+x), row[8*x], row[8*x+2], row[8*x+4], row[8*x+6])
			}
		}
	case *image.RGBA64:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := 0; x < w; x++ {
				a16 := uint32(row[8*x+6])<<8 | uint32(row[8*x+7])
				if a16 == 0xffff {
					put(3*(y*w+x), row[8*x], row[8*x+2], row[8*x+4], 255)
					continue
				}
				c := color.NRGBA64Model.Convert(m.RGBA64At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				put(3*(y*w+x), uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8), uint8(c.A>>8))
			}
		}
	case *image.Paletted:
		type entry struct{ r, g, b, a uint8 }
		pal := make([]entry, 256)
		for i, c := range m.Palette {
			if i >= 256 {
				break
			}
			switch pc := c.(type) {
			case color.NRGBA:
				pal[i] = entry{pc.R, pc.G, pc.B, pc.A}
			default:
				n := color.NRGBAModel.Convert(c).(color.NRGBA)
				pal[i] = entry{n.R, n.G, n.B, n.A}
			}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, p := range row {
				e := pal[p]
				put(3*(y*w+x), e.r, e.g, e.b, e.a)
			}
		}
	case *image.CMYK:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				nk := 255 - uint32(row[4*x+3])
				i := 3 * (y*w + x)
				for c := 0; c < 3; c++ {
					out.Pix[i+c] = clip8(int32(nk) - int32(mulDiv255(uint32(row[4*x+c]), nk)))
				}
			}
		}
	case *image.YCbCr:
		return jpegYCbCrToRGB(m)
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				put(3*(y*w+x), c.R, c.G, c.B, c.A)
			}
		}
	}
	return out
}

// unpremul undoes Go's alpha premultiplication (exact for values that came from non-premultiplied 8-bit data).
func unpremul(v, a uint8) uint8 {
	if a == 0 {
		return 0
	}
	return uint8((uint32(v)*255 + uint32(a)/2) / uint32(a))
}

// compositeWhite is Pillow's ImagingAlphaComposite (7 extra bits of precision) of one channel value with alpha
// a over an opaque white pixel.
func compositeWhite(v, a uint8) uint8 {
	if a == 0 {
		return 255
	}
	const prec = 7
	outa255 := uint32(a)*255 + 255*(255-uint32(a))
	coef1 := uint32(a) * 255 * 255 * (1 << prec) / outa255
	coef2 := 255*(1<<prec) - coef1
	tmp := uint32(v)*coef1 + 255*coef2
	tmp += 0x80 << prec
	return uint8((((tmp >> 8) + tmp) >> 8) >> prec)
}

// mulDiv255 is Pillow's MULDIV255: a*b/255 rounded.
func mulDiv255(a, b uint32) uint32 {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
}

func clip8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// gifWithoutTransparency returns a copy of a GIF file with the transparency flag cleared in every graphic
// control extension before the first image, or the data itself if its structure is not as expected.
func gifWithoutTransparency(data []byte) []byte {
	if len(data) < 13 {
		return data
	}
	out := append([]byte(nil), data...)
	i := 13
	if out[10]&0x80 != 0 {
		i += 3 << (int(out[10]&7) + 1)
	}
	for i < len(out) {
		switch out[i] {
		case 0x2C, 0x3B: // image descriptor or trailer: done
			return out
		case 0x21:
			if i+1 >= len(out) {
				return data
			}
			if out[i+1] == 0xF9 && i+3 < len(out) && out[i+2] == 4 {
				out[i+3] &^= 1
			}
			i += 2
			for i < len(out) && out[i] != 0 { // data sub-blocks
				i += int(out[i]) + 1
			}
			i++
		default:
			return data
		}
	}
	return data
}
