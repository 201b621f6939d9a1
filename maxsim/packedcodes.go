package maxsim

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// PackedCodes holds one page's sign codes in the layout of the fast Hamming kernel. For 128-dimension
// codes (two words) vectors are grouped in blocks of 8: the 8 low words, then the 8 high words; the last
// block is filled up with copies of vector 0, which cannot change a minimum. Other dimensions keep the
// plain layout of [SignCodes].
type PackedCodes struct {
	N     int      // vectors on the page
	Words []uint64 // packed codes
}

// PackCodes returns the packed form of n sign codes of w words each.
func PackCodes(codes []uint64, n, w int) PackedCodes {
	if len(codes) != n*w {
		panic(fmt.Sprintf("maxsim: %d code words are not %d codes of %d words", len(codes), n, w))
	}
	if w != 2 || n == 0 {
		return PackedCodes{N: n, Words: append([]uint64(nil), codes...)}
	}
	blocks := (n + 7) / 8
	out := make([]uint64, blocks*16)
	for b := 0; b < blocks; b++ {
		for l := 0; l < 8; l++ {
			j := b*8 + l
			if j >= n {
				j = 0
			}
			out[b*16+l] = codes[2*j]
			out[b*16+8+l] = codes[2*j+1]
		}
	}
	return PackedCodes{N: n, Words: out}
}

// Bytes returns the memory the packed codes take.
func (p PackedCodes) Bytes() int { return 8 * len(p.Words) }

// ScorePacked is [HammingScorer.Score] for packed codes.
func (h *HammingScorer) ScorePacked(p PackedCodes) int {
	if p.N == 0 {
		return 0
	}
	w := Words(h.q.Dim)
	if w != 2 {
		return h.Score(p.Words, p.N)
	}
	if useVPOPCNT {
		sum := sumMinHamming8x2(&h.q.Codes[0], h.q.N, unsafe.Pointer(&p.Words[0]), len(p.Words)/16)
		return h.q.N*h.q.Dim - 2*sum
	}
	for i := range h.mins {
		h.mins[i] = h.q.Dim + 1
	}
	minHammingPacked(h.q.Codes, p.Words, h.mins)
	total := 0
	for _, m := range h.mins {
		total += h.q.Dim - 2*m
	}
	return total
}

// PackedBytes returns how many bytes n packed codes of w words take as little-endian words (the
// stored form that [HammingScorer.ScorePackedBytes] reads).
func PackedBytes(n, w int) int {
	if w == 2 {
		return (n + 7) / 8 * 16 * 8
	}
	return n * w * 8
}

// ScorePackedBytes is [HammingScorer.ScorePacked] for n packed codes held as little-endian words in
// b, [PackedBytes](n, Words(Dim)) bytes at any alignment, as an index file stores them: with the
// vector popcount kernel they are read in place, without a copy.
func (h *HammingScorer) ScorePackedBytes(n int, b []byte) int {
	w := Words(h.q.Dim)
	if len(b) != PackedBytes(n, w) {
		panic(fmt.Sprintf("maxsim: %d bytes are not %d packed codes of %d words", len(b), n, w))
	}
	if n == 0 {
		return 0
	}
	if useVPOPCNT && w == 2 {
		sum := sumMinHamming8x2(&h.q.Codes[0], h.q.N, unsafe.Pointer(&b[0]), len(b)/128)
		return h.q.N*h.q.Dim - 2*sum
	}
	words := h.scratch[:0]
	for i := 0; i+8 <= len(b); i += 8 {
		words = append(words, binary.LittleEndian.Uint64(b[i:]))
	}
	h.scratch = words
	return h.ScorePacked(PackedCodes{N: n, Words: words})
}

// minHammingPacked is the portable loop over the packed layout.
func minHammingPacked(q, d []uint64, mins []int) {
	var lo, hi [8]uint64
	for b := 0; b+16 <= len(d); b += 16 {
		copy(lo[:], d[b:b+8])
		copy(hi[:], d[b+8:b+16])
		for l := 0; l < 8; l++ {
			d0, d1 := lo[l], hi[l]
			for i := range mins {
				h := onesCount(q[2*i]^d0) + onesCount(q[2*i+1]^d1)
				if h < mins[i] {
					mins[i] = h
				}
			}
		}
	}
}
