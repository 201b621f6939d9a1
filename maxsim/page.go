package maxsim

import "fmt"

// EncodePage rounds a page's vectors to half precision in dimension-major order: element (vector j,
// dimension k) goes to index k*len(vecs)+j. This is the layout [Scorer.ScoreHalf] reads.
func EncodePage(vecs [][]float32) ([]uint16, error) {
	if len(vecs) == 0 {
		return nil, nil
	}
	dim := len(vecs[0])
	n := len(vecs)
	out := make([]uint16, n*dim)
	for j, v := range vecs {
		if len(v) != dim {
			return nil, fmt.Errorf("page vector %d has %d dimensions, vector 0 has %d: %w", j, len(v), dim, ErrDim)
		}
		for k, f := range v {
			out[k*n+j] = FromFloat32(f)
		}
	}
	return out, nil
}

// DecodePage widens a dimension-major half-precision page of n vectors back to row vectors.
func DecodePage(doc []uint16, n int) [][]float32 {
	if n == 0 {
		return nil
	}
	dim := len(doc) / n
	flat := make([]float32, len(doc))
	Decode(flat, doc)
	out := make([][]float32, n)
	for j := range out {
		v := make([]float32, dim)
		for k := range v {
			v[k] = flat[k*n+j]
		}
		out[j] = v
	}
	return out
}
