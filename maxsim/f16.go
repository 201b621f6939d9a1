package maxsim

import (
	"math"
	"sync"
)

// FromFloat32 rounds f to the nearest IEEE 754 half-precision value (ties to even) and returns its bits.
// Values beyond the half range become ±Inf; NaN stays NaN.
func FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp-127 > 15: // overflow
		return sign | 0x7c00
	case exp-127 >= -14: // normal half
		h := uint32(exp-127+15)<<10 | mant>>13
		rest := mant & 0x1fff
		if rest > 0x1000 || (rest == 0x1000 && h&1 == 1) {
			h++ // may carry into the exponent, which is still correct (up to Inf)
		}
		return sign | uint16(h)
	case exp-127 >= -25: // subnormal half
		m := mant | 0x800000
		shift := uint32(-14-(exp-127)) + 13
		h := m >> shift
		rest := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || (rest == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	default:
		return sign
	}
}

// ToFloat32 widens the half-precision value h exactly.
func ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	default: // subnormal: value = mant * 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
}

var (
	halfTableOnce sync.Once
	halfTable     []float32 // all 65,536 half values widened, for the portable decoder
)

func initHalfTable() {
	halfTable = make([]float32, 1<<16)
	for i := range halfTable {
		halfTable[i] = ToFloat32(uint16(i))
	}
}

func decodeTable(dst []float32, src []uint16) {
	halfTableOnce.Do(initHalfTable)
	t := halfTable[:1<<16]
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = t[h]
	}
}

// Decode widens len(src) half-precision values into dst, which must be at least as long.
// It uses the F16C instruction VCVTPH2PS where the CPU has it and a lookup table otherwise.
func Decode(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic("maxsim.Decode: destination shorter than source")
	}
	n8 := 0
	if useF16C {
		n8 = len(src) &^ 7
		if n8 > 0 {
			decodeF16C(dst[:n8], src[:n8])
		}
	}
	if n8 < len(src) {
		decodeTable(dst[n8:], src[n8:])
	}
}

// Encode rounds len(src) float32 values to half precision into dst, which must be at least as long.
func Encode(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		dst[i] = FromFloat32(f)
	}
}
