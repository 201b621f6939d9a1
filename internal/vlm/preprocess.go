package vlm

import (
	"encoding/json"
	"fmt"
	"math"
)

// ImageConfig holds the preprocessor_config.json settings of an Idefics3ImageProcessor.
type ImageConfig struct {
	DoConvertRGB   bool       `json:"do_convert_rgb"`
	DoResize       bool       `json:"do_resize"`
	DoImageSplit   bool       `json:"do_image_splitting"`
	DoRescale      bool       `json:"do_rescale"`
	DoNormalize    bool       `json:"do_normalize"`
	DoPad          bool       `json:"do_pad"`
	RescaleFactor  float64    `json:"rescale_factor"`
	ImageMean      []float64  `json:"image_mean"`
	ImageStd       []float64  `json:"image_std"`
	Resample       int        `json:"resample"`
	Size           edgeConfig `json:"size"`           // longest edge after the first resize (2048)
	MaxImageSize   edgeConfig `json:"max_image_size"` // tile size (512)
	ProcessorClass string     `json:"processor_class"`
	ImageProcessor string     `json:"image_processor_type"`
}

type edgeConfig struct {
	LongestEdge int `json:"longest_edge"`
}

// DefaultImageConfig returns the SmolVLM / colSmol values (models.md §2.1), used for keys a file leaves out.
func DefaultImageConfig() ImageConfig {
	return ImageConfig{
		DoConvertRGB: true, DoResize: true, DoImageSplit: true, DoRescale: true, DoNormalize: true, DoPad: true,
		RescaleFactor: 1.0 / 255, ImageMean: []float64{0.5, 0.5, 0.5}, ImageStd: []float64{0.5, 0.5, 0.5},
		Resample: 1, Size: edgeConfig{2048}, MaxImageSize: edgeConfig{512},
		ProcessorClass: "Idefics3Processor", ImageProcessor: "Idefics3ImageProcessor",
	}
}

// ParseImageConfig reads preprocessor_config.json contents over the defaults and checks them.
func ParseImageConfig(data []byte) (ImageConfig, error) {
	c := DefaultImageConfig()
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("preprocessor_config.json: %w", err)
	}
	return c, c.validate()
}

func (c *ImageConfig) validate() error {
	if c.Resample != 1 {
		return fmt.Errorf("preprocessor_config.json: resample %d is not supported (only 1, LANCZOS)", c.Resample)
	}
	if c.MaxImageSize.LongestEdge <= 0 || c.Size.LongestEdge <= 0 {
		return fmt.Errorf("preprocessor_config.json: size.longest_edge and max_image_size.longest_edge must be positive")
	}
	if len(c.ImageMean) != 3 || len(c.ImageStd) != 3 {
		return fmt.Errorf("preprocessor_config.json: image_mean and image_std need 3 values")
	}
	for _, s := range c.ImageStd {
		if s == 0 {
			return fmt.Errorf("preprocessor_config.json: image_std has a zero")
		}
	}
	return nil
}

// TileSize is the side of one square tile fed to the vision encoder (max_image_size.longest_edge).
func (c *ImageConfig) TileSize() int { return c.MaxImageSize.LongestEdge }

// TileLayout describes how one image was cut: Rows×Cols grid tiles (row-major) followed by one global tile,
// N = Rows·Cols + 1; Rows = Cols = 0 means a single unsplit tile (N = 1).
type TileLayout struct {
	Rows, Cols, N int
}

// resizeLongest is transformers' get_resize_output_image_size for Idefics3: the longest edge becomes maxLen,
// the other side keeps the aspect ratio (int() truncation) and is bumped to an even number, then everything is
// kept below 4096.
func resizeLongest(w, h, maxLen int) (int, int) {
	aspect := float64(w) / float64(h)
	if w >= h {
		w = maxLen
		h = int(float64(w) / aspect)
		if h%2 != 0 {
			h++
		}
	} else {
		h = maxLen
		w = int(float64(h) * aspect)
		if w%2 != 0 {
			w++
		}
	}
	h, w = max(h, 1), max(w, 1)
	const maxImageSize = 4096
	aspect = float64(w) / float64(h)
	if w >= h && w > maxImageSize {
		w = maxImageSize
		h = int(float64(w) / aspect)
	} else if h > w && h > maxImageSize {
		h = maxImageSize
		w = int(float64(h) * aspect)
	}
	return max(w, 1), max(h, 1)
}

// resizeForVisionEncoder rounds both sides up to multiples of the tile size, the short side recomputed from
// the new long side (transformers' resize_for_vision_encoder).
func resizeForVisionEncoder(w, h, tile int) (int, int) {
	aspect := float64(w) / float64(h)
	ceilTo := func(v int) int { return int(math.Ceil(float64(v)/float64(tile))) * tile }
	if w >= h {
		w = ceilTo(w)
		h = int(float64(w) / aspect)
		h = ceilTo(h)
	} else {
		h = ceilTo(h)
		w = int(float64(h) * aspect)
		w = ceilTo(w)
	}
	return w, h
}

// PlanTiles returns the tile layout an image of w×h pixels gets, without touching pixels.
func (c *ImageConfig) PlanTiles(w, h int) TileLayout {
	tile := c.TileSize()
	if c.DoResize {
		w, h = resizeLongest(w, h, c.Size.LongestEdge)
	}
	if !c.DoImageSplit {
		return TileLayout{N: 1}
	}
	w, h = resizeForVisionEncoder(w, h, tile)
	if h > tile || w > tile {
		rows := (h + tile - 1) / tile
		cols := (w + tile - 1) / tile
		return TileLayout{Rows: rows, Cols: cols, N: rows*cols + 1}
	}
	return TileLayout{N: 1}
}

// Tiles resizes and cuts an image as Idefics3ImageProcessor does (models.md §2.2): longest edge to
// size.longest_edge, both sides up to multiples of the tile size, row-major crops, then the whole image
// resized to one tile as the global view (last). All resizes are Pillow-exact LANCZOS on 8-bit pixels.
func (c *ImageConfig) Tiles(img *RGB) ([]*RGB, TileLayout) {
	tile := c.TileSize()
	if c.DoResize {
		w, h := resizeLongest(img.W, img.H, c.Size.LongestEdge)
		img = ResizeLanczos(img, w, h)
	}
	if !c.DoImageSplit {
		return []*RGB{ResizeLanczos(img, tile, tile)}, TileLayout{N: 1}
	}
	w, h := resizeForVisionEncoder(img.W, img.H, tile)
	img = ResizeLanczos(img, w, h)
	if h <= tile && w <= tile {
		return []*RGB{img}, TileLayout{N: 1}
	}
	rows := (h + tile - 1) / tile
	cols := (w + tile - 1) / tile
	oh := (h + rows - 1) / rows
	ow := (w + cols - 1) / cols
	tiles := make([]*RGB, 0, rows*cols+1)
	for r := 0; r < rows; r++ {
		for col := 0; col < cols; col++ {
			x0, y0 := col*ow, r*oh
			x1, y1 := min(x0+ow, w), min(y0+oh, h)
			tiles = append(tiles, crop(img, x0, y0, x1, y1))
		}
	}
	global := img
	if h != tile || w != tile {
		global = ResizeLanczos(img, tile, tile)
	}
	tiles = append(tiles, global)
	return tiles, TileLayout{Rows: rows, Cols: cols, N: len(tiles)}
}

func crop(img *RGB, x0, y0, x1, y1 int) *RGB {
	out := NewRGB(x1-x0, y1-y0)
	for y := y0; y < y1; y++ {
		copy(out.Pix[3*(y-y0)*out.W:3*(y-y0+1)*out.W], img.Pix[3*(y*img.W+x0):3*(y*img.W+x1)])
	}
	return out
}

// normTable returns, per channel, the float32 value of every 8-bit level after rescale (float64 multiply,
// cast to float32, as transformers' rescale does) and normalise ((x − mean) / std in float32).
func (c *ImageConfig) normTable() [3][256]float32 {
	var t [3][256]float32
	for ch := 0; ch < 3; ch++ {
		mean, std := float32(c.ImageMean[ch]), float32(c.ImageStd[ch])
		for v := 0; v < 256; v++ {
			x := float32(v)
			if c.DoRescale {
				x = float32(float64(v) * c.RescaleFactor)
			}
			if c.DoNormalize {
				x = (x - mean) / std
			}
			t[ch][v] = x
		}
	}
	return t
}

// PixelValues lays tiles out as float32 [N, 3, T, T] (channels first, R G B), rescaled and normalised. Tiles
// smaller than T×T (only possible with unusual configs) are zero-padded at the bottom and right, as the
// processor's do_pad does; the returned mask marks the real pixels.
func (c *ImageConfig) PixelValues(tiles []*RGB) ([]float32, []bool) {
	T := c.TileSize()
	plane := T * T
	out := make([]float32, len(tiles)*3*plane)
	mask := make([]bool, len(tiles)*plane)
	lut := c.normTable()
	parallelRows(len(tiles)*T, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			n, y := row/T, row%T
			t := tiles[n]
			if y >= t.H {
				continue
			}
			base := n * 3 * plane
			src := t.Pix[3*y*t.W : 3*(y+1)*t.W]
			r := out[base+y*T : base+y*T+t.W]
			g := out[base+plane+y*T : base+plane+y*T+t.W]
			b := out[base+2*plane+y*T : base+2*plane+y*T+t.W]
			for x := 0; x < t.W; x++ {
				r[x] = lut[0][src[3*x]]
				g[x] = lut[1][src[3*x+1]]
				b[x] = lut[2][src[3*x+2]]
			}
			m := mask[n*plane+y*T : n*plane+y*T+t.W]
			for x := range m {
				m[x] = true
			}
		}
	})
	return out, mask
}
