package maxsim

import (
	"math"
	"testing"
)

func TestFromFloat32_NumPyGolden(t *testing.T) {
	g := loadGoldens(t)
	if len(g.F16.F32Bits) == 0 || len(g.F16.F32Bits) != len(g.F16.F16Bits) {
		t.Fatalf("golden f16 table malformed: %d vs %d", len(g.F16.F32Bits), len(g.F16.F16Bits))
	}
	for i, b := range g.F16.F32Bits {
		f := math.Float32frombits(b)
		if got, want := FromFloat32(f), g.F16.F16Bits[i]; got != want {
			t.Errorf("FromFloat32(%g) = %#04x, want %#04x (NumPy)", f, got, want)
		}
	}
}

func TestToFloat32_RoundTripsEveryHalf(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := ToFloat32(uint16(h))
		if f != f { // NaN
			if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
				t.Fatalf("ToFloat32(%#04x) = NaN", h)
			}
			continue
		}
		if back := FromFloat32(f); back != uint16(h) {
			t.Fatalf("FromFloat32(ToFloat32(%#04x) = %g) = %#04x", h, f, back)
		}
	}
}

func TestDecode_MatchesToFloat32(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 33, 128, 1030} {
			src := make([]uint16, n)
			for i := range src {
				src[i] = uint16(i*2654435761>>7) & 0xfbff // avoid NaN patterns
			}
			dst := make([]float32, n+1)
			dst[n] = 42
			Decode(dst, src)
			for i, h := range src {
				if got, want := dst[i], ToFloat32(h); got != want && !(got != got && want != want) {
					t.Fatalf("n=%d: Decode[%d] = %g, want %g", n, i, got, want)
				}
			}
			if dst[n] != 42 {
				t.Fatalf("n=%d: Decode wrote past the source length", n)
			}
		}
	})
}

func TestEncodePage_DimensionMajor(t *testing.T) {
	vecs := [][]float32{{1, 2, 3}, {4, 5, 6}}
	got, err := EncodePage(vecs)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 4, 2, 5, 3, 6}
	for i, h := range got {
		if ToFloat32(h) != want[i] {
			t.Fatalf("EncodePage = %v, want dimension-major %v", got, want)
		}
	}
	back := DecodePage(got, 2)
	for i := range vecs {
		for k := range vecs[i] {
			if back[i][k] != vecs[i][k] {
				t.Fatalf("DecodePage = %v, want %v", back, vecs)
			}
		}
	}
	if _, err := EncodePage([][]float32{{1, 2}, {3}}); err == nil {
		t.Fatal("EncodePage accepted vectors of different dimensions")
	}
}
