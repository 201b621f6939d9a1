package vlm

import (
	"image"
)

// This file turns the Y'CbCr planes that Go's JPEG and WebP decoders return into RGB the way Pillow's
// libraries do: libjpeg-turbo's "fancy" (triangular) chroma upsampling and its fixed-point colour tables for
// JPEG, libwebp's fancy upsampler and its 14-bit conversion for lossy WebP. Go's own conversion uses nearest
// chroma and different rounding, which is tens of levels off on noisy 4:2:0 images. The integer formulas are
// restated from the libjpeg-turbo (jdsample.c, jdcolor.c) and libwebp (dsp/upsampling.c, dsp/yuv.h)
// documentation of their algorithms.

// libjpeg colour tables (jdcolor.c build_ycc_rgb_table): SCALEBITS = 16, FIX(x) = round(x·2^16).
var (
	jCrR [256]int32
	jCbB [256]int32
	jCrG [256]int32
	jCbG [256]int32
)

func init() {
	const half = 1 << 15
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		jCrR[i] = (91881*x + half) >> 16
		jCbB[i] = (116130*x + half) >> 16
		jCrG[i] = -46802 * x
		jCbG[i] = -22554*x + half
	}
}

// jpegYCbCrToRGB converts a JPEG's decoded planes with libjpeg-turbo's default decompression settings.
func jpegYCbCrToRGB(m *image.YCbCr) *RGB {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	// Chroma plane size as libjpeg computes it: ceil(size · samp / max_samp).
	hs, vs := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hs = 2
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio440:
		vs = 2
	case image.YCbCrSubsampleRatio411:
		hs = 4
	case image.YCbCrSubsampleRatio410:
		hs, vs = 4, 2
	}
	cw, ch := (w+hs-1)/hs, (h+vs-1)/vs
	cb := make([]uint8, cw*ch)
	cr := make([]uint8, cw*ch)
	for y := 0; y < ch; y++ {
		ci := m.COffset(b.Min.X, b.Min.Y+y*vs)
		copy(cb[y*cw:(y+1)*cw], m.Cb[ci:ci+cw])
		copy(cr[y*cw:(y+1)*cw], m.Cr[ci:ci+cw])
	}
	ucb := jpegUpsample(cb, cw, ch, w, h, hs, vs)
	ucr := jpegUpsample(cr, cw, ch, w, h, hs, vs)
	out := NewRGB(w, h)
	for y := 0; y < h; y++ {
		yi := m.YOffset(b.Min.X, b.Min.Y+y)
		yrow := m.Y[yi : yi+w]
		o := out.Pix[3*y*w : 3*(y+1)*w]
		u := ucb[y*w : (y+1)*w]
		v := ucr[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			yy := int32(yrow[x])
			o[3*x] = clip8(yy + jCrR[v[x]])
			o[3*x+1] = clip8(yy + ((jCbG[u[x]] + jCrG[v[x]]) >> 16))
			o[3*x+2] = clip8(yy + jCbB[u[x]])
		}
	}
	return out
}

// jpegUpsample brings a cw×ch chroma plane to w×h as libjpeg-turbo does with do_fancy_upsampling: triangular
// filters for 2:1 horizontal (h2v1), 2:1 vertical (h1v2) and both (h2v2), edge samples replicated; plain
// replication for other factors and for planes at most 2 samples wide (h2v1, h2v2).
func jpegUpsample(p []uint8, cw, ch, w, h, hs, vs int) []uint8 {
	if hs == 1 && vs == 1 {
		return p
	}
	out := make([]uint8, w*h)
	at := func(x, y int) int32 {
		if x < 0 {
			x = 0
		} else if x >= cw {
			x = cw - 1
		}
		if y < 0 {
			y = 0
		} else if y >= ch {
			y = ch - 1
		}
		return int32(p[y*cw+x])
	}
	fancyH := hs == 2 && cw > 2
	switch {
	case hs == 2 && vs == 2 && fancyH:
		for y := 0; y < h; y++ {
			cy := y / 2
			far := cy - 1
			if y%2 == 1 {
				far = cy + 1
			}
			row := out[y*w : (y+1)*w]
			for x := 0; x < w; x++ {
				cx := x / 2
				this := 3*at(cx, cy) + at(cx, far)
				if x%2 == 0 {
					row[x] = uint8((3*this + 3*at(cx-1, cy) + at(cx-1, far) + 8) >> 4)
				} else {
					row[x] = uint8((3*this + 3*at(cx+1, cy) + at(cx+1, far) + 7) >> 4)
				}
			}
		}
	case hs == 2 && vs == 1 && fancyH:
		for y := 0; y < h; y++ {
			row := out[y*w : (y+1)*w]
			for x := 0; x < w; x++ {
				cx := x / 2
				if x%2 == 0 {
					row[x] = uint8((3*at(cx, y) + at(cx-1, y) + 1) >> 2)
				} else {
					row[x] = uint8((3*at(cx, y) + at(cx+1, y) + 2) >> 2)
				}
			}
		}
	case hs == 1 && vs == 2:
		for y := 0; y < h; y++ {
			cy := y / 2
			far, bias := cy-1, int32(1)
			if y%2 == 1 {
				far, bias = cy+1, 2
			}
			row := out[y*w : (y+1)*w]
			for x := 0; x < w; x++ {
				row[x] = uint8((3*at(x, cy) + at(x, far) + bias) >> 2)
			}
		}
	default:
		for y := 0; y < h; y++ {
			row := out[y*w : (y+1)*w]
			for x := 0; x < w; x++ {
				row[x] = uint8(at(x/hs, y/vs))
			}
		}
	}
	return out
}

// webpYUVToRGB converts lossy WebP planes (4:2:0, VP8 limited range) with libwebp's fancy upsampler and
// VP8YUVToR/G/B; alpha (may be nil) is dropped or composited on white.
func webpYUVToRGB(m *image.YCbCr, alpha []uint8, astride int, mode AlphaMode) *RGB {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	u := make([]uint8, cw*ch)
	v := make([]uint8, cw*ch)
	for y := 0; y < ch; y++ {
		ci := m.COffset(b.Min.X, b.Min.Y+2*y)
		copy(u[y*cw:(y+1)*cw], m.Cb[ci:ci+cw])
		copy(v[y*cw:(y+1)*cw], m.Cr[ci:ci+cw])
	}
	out := NewRGB(w, h)
	uRow := make([]int32, w)
	vRow := make([]int32, w)
	for y := 0; y < h; y++ {
		// Output row y blends the chroma rows nearest to it: row 0 and the last row of an even-height picture
		// use one chroma row; otherwise odd rows lean on (y-1)/2 and even rows on y/2.
		var near, far int
		if y%2 == 1 {
			near, far = (y-1)/2, (y+1)/2
		} else {
			near, far = y/2, y/2-1
		}
		if far < 0 {
			far = 0
		}
		if far >= ch {
			far = ch - 1
		}
		webpUpsampleRow(u[near*cw:(near+1)*cw], u[far*cw:(far+1)*cw], uRow)
		webpUpsampleRow(v[near*cw:(near+1)*cw], v[far*cw:(far+1)*cw], vRow)
		yi := m.YOffset(b.Min.X, b.Min.Y+y)
		yrow := m.Y[yi : yi+w]
		o := out.Pix[3*y*w : 3*(y+1)*w]
		for x := 0; x < w; x++ {
			yy := int32(yrow[x])
			r := webpClip8(mulHi(yy, 19077) + mulHi(vRow[x], 26149) - 14234)
			g := webpClip8(mulHi(yy, 19077) - mulHi(uRow[x], 6419) - mulHi(vRow[x], 13320) + 8708)
			bl := webpClip8(mulHi(yy, 19077) + mulHi(uRow[x], 33050) - 17685)
			if alpha != nil && mode == AlphaWhite {
				a := alpha[y*astride+x]
				if a != 255 {
					r, g, bl = compositeWhite(r, a), compositeWhite(g, a), compositeWhite(bl, a)
				}
			}
			o[3*x], o[3*x+1], o[3*x+2] = r, g, bl
		}
	}
	return out
}

// webpUpsampleRow fills dst (the output width) from a near and a far chroma row with libwebp's UpsampleRgbLinePair
// arithmetic (a rounded approximation of the 9-3-3-1 filter).
func webpUpsampleRow(a, b []uint8, dst []int32) {
	n := len(dst)
	dst[0] = (3*int32(a[0]) + int32(b[0]) + 2) >> 2
	last := (n - 1) >> 1
	for x := 1; x <= last; x++ {
		a0, a1, b0, b1 := int32(a[x-1]), int32(a[x]), int32(b[x-1]), int32(b[x])
		d1 := (a0 + 3*a1 + 3*b0 + b1 + 8) >> 3
		d2 := (3*a0 + a1 + b0 + 3*b1 + 8) >> 3
		dst[2*x-1] = (d1 + a0) >> 1
		dst[2*x] = (d2 + a1) >> 1
	}
	if n%2 == 0 {
		x := n/2 - 1
		dst[n-1] = (3*int32(a[x]) + int32(b[x]) + 2) >> 2
	}
}

func mulHi(v, c int32) int32 { return (v * c) >> 8 }

func webpClip8(v int32) uint8 {
	const mask = (256 << 6) - 1
	if v&^mask == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}
