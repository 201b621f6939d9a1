package maxsim

// Words returns how many uint64 words hold the sign code of one vector of dim dimensions.
func Words(dim int) int { return (dim + 63) / 64 }

// SignCodes returns the 1-bit codes of the row-major vectors in flat: bit k of a vector's code is set
// when its dimension k is > 0 (as numpy.packbits(v > 0), here least significant bit first). Each vector
// takes [Words](dim) words; at dim 128 that is 16 bytes.
func SignCodes(flat []float32, dim int) []uint64 {
	n := len(flat) / dim
	w := Words(dim)
	codes := make([]uint64, n*w)
	for i := 0; i < n; i++ {
		v := flat[i*dim : (i+1)*dim]
		for k, f := range v {
			if f > 0 {
				codes[i*w+k/64] |= 1 << (k % 64)
			}
		}
	}
	return codes
}

// PageSignCodes returns the sign codes of a page's row vectors.
func PageSignCodes(vecs [][]float32) []uint64 {
	if len(vecs) == 0 {
		return nil
	}
	dim := len(vecs[0])
	w := Words(dim)
	codes := make([]uint64, len(vecs)*w)
	for i, v := range vecs {
		for k, f := range v {
			if f > 0 {
				codes[i*w+k/64] |= 1 << (k % 64)
			}
		}
	}
	return codes
}
