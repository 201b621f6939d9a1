package vlm

import (
	"math"
	"runtime"
	"sync"
)

// Pillow-exact LANCZOS resampling (Image.resize(size, Image.LANCZOS) on an 8-bit RGB image, Pillow's
// libImaging/Resample.c): separable, horizontal pass first, each pass skipped when that side keeps its size,
// an 8-bit intermediate image, and 22-bit fixed-point coefficients. No Go library reproduces Pillow's numbers
// (go-stack.md §2), so the algorithm is restated here from Pillow's documented behaviour; it gives
// byte-identical output (see the golden tests).

const (
	resamplePrecision = 32 - 8 - 2 // Pillow's PRECISION_BITS for 8-bit images
	lanczosSupport    = 3.0
)

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

func lanczos(x float64) float64 {
	if -lanczosSupport <= x && x < lanczosSupport {
		return sinc(x) * sinc(x/lanczosSupport)
	}
	return 0
}

// resampleCoeffs returns, for every output index, the first input index, the number of taps and the
// fixed-point weights (ksize per output).
func resampleCoeffs(inSize, outSize int) (bounds []int, kk []int32, ksize int) {
	scale := float64(inSize) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := lanczosSupport * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, 2*outSize)
	kk = make([]int32, outSize*ksize)
	w := make([]float64, ksize)
	ss := 1.0 / filterscale
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		xmin := int(center - support + 0.5) // C (int) truncates toward zero
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			v := lanczos((float64(x+xmin) - center + 0.5) * ss)
			w[x] = v
			ww += v
		}
		k := kk[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<resamplePrecision))
			} else {
				k[x] = int32(0.5 + v*(1<<resamplePrecision))
			}
		}
		bounds[2*xx] = xmin
		bounds[2*xx+1] = xmax
	}
	return bounds, kk, ksize
}

func clipFixed(v int32) uint8 {
	if v >= 1<<resamplePrecision<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> resamplePrecision)
}

// parallelRows runs fn over [0,n) split into contiguous chunks on all CPUs.
func parallelRows(n int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 || n < 64 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// ResizeLanczos returns img resized to w×h exactly as Pillow's Image.resize((w, h), Image.LANCZOS) does.
// The same size returns a copy.
func ResizeLanczos(img *RGB, w, h int) *RGB {
	if w <= 0 || h <= 0 {
		return NewRGB(max(w, 0), max(h, 0))
	}
	if w == img.W && h == img.H {
		return &RGB{W: w, H: h, Pix: append([]uint8(nil), img.Pix...)}
	}
	src := img
	needH := w != img.W
	needV := h != img.H
	vb, vk, vksize := resampleCoeffs(img.H, h)
	if needH {
		// Only the source rows the vertical pass reads are resampled horizontally.
		first := vb[0]
		last := vb[2*h-2] + vb[2*h-1]
		if !needV {
			first, last = 0, img.H
		}
		hb, hk, hksize := resampleCoeffs(img.W, w)
		tmp := NewRGB(w, last-first)
		parallelRows(last-first, func(lo, hi int) {
			for y := lo; y < hi; y++ {
				in := img.Pix[3*(y+first)*img.W : 3*(y+first+1)*img.W]
				out := tmp.Pix[3*y*w : 3*(y+1)*w]
				for xx := 0; xx < w; xx++ {
					xmin, n := hb[2*xx], hb[2*xx+1]
					k := hk[xx*hksize : xx*hksize+n]
					s0, s1, s2 := int32(1<<(resamplePrecision-1)), int32(1<<(resamplePrecision-1)), int32(1<<(resamplePrecision-1))
					p := in[3*xmin : 3*(xmin+n)]
					for x, c := range k {
						s0 += int32(p[3*x]) * c
						s1 += int32(p[3*x+1]) * c
						s2 += int32(p[3*x+2]) * c
					}
					out[3*xx], out[3*xx+1], out[3*xx+2] = clipFixed(s0), clipFixed(s1), clipFixed(s2)
				}
			}
		})
		for i := 0; i < h; i++ {
			vb[2*i] -= first
		}
		src = tmp
	}
	if !needV {
		return src
	}
	out := NewRGB(src.W, h)
	rowLen := 3 * src.W
	parallelRows(h, func(lo, hi int) {
		acc := make([]int32, rowLen)
		for yy := lo; yy < hi; yy++ {
			ymin, n := vb[2*yy], vb[2*yy+1]
			k := vk[yy*vksize : yy*vksize+n]
			for i := range acc {
				acc[i] = 1 << (resamplePrecision - 1)
			}
			for y, c := range k {
				row := src.Pix[(ymin+y)*rowLen : (ymin+y+1)*rowLen]
				for i, v := range row {
					acc[i] += int32(v) * c
				}
			}
			o := out.Pix[yy*rowLen : (yy+1)*rowLen]
			for i, v := range acc {
				o[i] = clipFixed(v)
			}
		}
	})
	return out
}
