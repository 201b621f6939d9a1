package ort

import (
	"fmt"
	"math"
)

// Tensor is a dense, row-major tensor held in Go memory. Exactly one of F32, I64 and Bool holds the data,
// and its length equals the product of Shape (rank 1 or more; a zero dimension gives an empty tensor).
type Tensor struct {
	Shape []int64
	F32   []float32
	I64   []int64
	Bool  []bool
}

// F32 wraps float32 data (not copied) as a tensor of the given shape.
func F32(data []float32, shape ...int64) Tensor { return Tensor{Shape: shape, F32: data} }

// I64 wraps int64 data (not copied) as a tensor of the given shape.
func I64(data []int64, shape ...int64) Tensor { return Tensor{Shape: shape, I64: data} }

// Bool wraps bool data (not copied) as a tensor of the given shape.
func Bool(data []bool, shape ...int64) Tensor { return Tensor{Shape: shape, Bool: data} }

// Elements returns the product of the shape's dimensions.
func (t Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Type names the element type held: "float32", "int64", "bool", or "" when none or several are set.
func (t Tensor) Type() string {
	var name string
	set := 0
	if t.F32 != nil {
		name, set = "float32", set+1
	}
	if t.I64 != nil {
		name, set = "int64", set+1
	}
	if t.Bool != nil {
		name, set = "bool", set+1
	}
	if set != 1 {
		return ""
	}
	return name
}

// length returns the number of elements held in the set slice.
func (t Tensor) length() int {
	return len(t.F32) + len(t.I64) + len(t.Bool)
}

// validate checks that exactly one data slice is set and that it matches the shape.
func (t Tensor) validate() error {
	if len(t.Shape) == 0 {
		return fmt.Errorf("tensor has no shape (scalars are not supported)")
	}
	for i, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("dimension %d of shape %v is negative", i, t.Shape)
		}
	}
	if t.Type() == "" {
		return fmt.Errorf("tensor must hold exactly one of F32, I64 or Bool data")
	}
	if n := t.Elements(); int64(t.length()) != n {
		return fmt.Errorf("shape %v needs %d elements, the %s data has %d", t.Shape, n, t.Type(), t.length())
	}
	return nil
}

// f16ToF32 converts IEEE 754 half-precision values (little-endian byte pairs) to float32.
func f16ToF32(b []byte) []float32 {
	out := make([]float32, len(b)/2)
	for i := range out {
		h := uint32(b[2*i]) | uint32(b[2*i+1])<<8
		sign := (h >> 15) << 31
		exp := (h >> 10) & 0x1f
		mant := h & 0x3ff
		var bits uint32
		switch {
		case exp == 0 && mant == 0:
			bits = sign
		case exp == 0: // subnormal: normalise
			e := uint32(127 - 15 + 1)
			for mant&0x400 == 0 {
				mant <<= 1
				e--
			}
			bits = sign | e<<23 | (mant&0x3ff)<<13
		case exp == 0x1f:
			bits = sign | 0xff<<23 | mant<<13
		default:
			bits = sign | (exp+127-15)<<23 | mant<<13
		}
		out[i] = math.Float32frombits(bits)
	}
	return out
}
