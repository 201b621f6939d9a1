package indexer

import (
	"bytes"
	"image"
	"image/jpeg"

	"golang.org/x/image/draw"

	"github.com/colsmol/colsmol/internal/vlm"
)

// Display image sizes (longest side, pixels) and JPEG qualities for the web UI. They are for people to look
// at, not for the model, so a fast good-quality filter (x/image/draw CatmullRom) is used rather than
// Pillow-exact resampling.
const (
	ThumbEdge      = 256
	PreviewEdge    = 1280
	thumbQuality   = 80
	previewQuality = 85
)

// toRGBA copies an RGB image into an *image.RGBA, the layout x/image/draw scales fastest.
func toRGBA(src *vlm.RGB) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, src.W, src.H))
	for i, j := 0, 0; i < len(src.Pix); i, j = i+3, j+4 {
		dst.Pix[j], dst.Pix[j+1], dst.Pix[j+2], dst.Pix[j+3] = src.Pix[i], src.Pix[i+1], src.Pix[i+2], 255
	}
	return dst
}

// fit scales src so that its longest side is at most edge (never enlarging).
func fit(src *image.RGBA, edge int) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= edge && h <= edge {
		return src
	}
	var W, H int
	if w >= h {
		W, H = edge, max(1, (h*edge+w/2)/w)
	} else {
		W, H = max(1, (w*edge+h/2)/h), edge
	}
	dst := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	return dst
}

// displayImages makes the JPEG thumbnail and preview of a page.
func displayImages(img *vlm.RGB) (thumb, preview []byte, err error) {
	preview1 := fit(toRGBA(img), PreviewEdge)
	thumb1 := fit(preview1, ThumbEdge)
	var pb, tb bytes.Buffer
	if err := jpeg.Encode(&pb, preview1, &jpeg.Options{Quality: previewQuality}); err != nil {
		return nil, nil, err
	}
	if err := jpeg.Encode(&tb, thumb1, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, nil, err
	}
	return tb.Bytes(), pb.Bytes(), nil
}
