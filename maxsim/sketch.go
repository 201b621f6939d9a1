package maxsim

import (
	"fmt"
	"math/bits"
)

// DefaultSketchSize is how many codes [SketchCodes] keeps per page when the index builds its sketches:
// 64 of a 1,030-vector page cut the coarse phase to about 1/16 of a full binary scan. BenchmarkSearch in
// package index measures the recall this keeps.
const DefaultSketchSize = 64

// sketchRounds is how many assign-and-vote rounds SketchCodes runs; codes rarely move after the third.
const sketchRounds = 4

// SketchCodes summarises a page's n sign codes of w words (the plain layout of [SignCodes]) by at most k
// codes, for a coarse first phase that scores many pages cheaply: binary k-means ("k-majority"). The k
// centroids start at codes spread evenly over the page (patches in reading order, so the whole page is
// covered); each round assigns every code to its nearest centroid by Hamming distance, then sets every
// centroid bit by majority vote of its members (a tie, or a centroid left without members, keeps the
// bit). The binary MaxSim of a query against the sketch approximates the one against the page, since
// every code lies near its centroid. A page of at most k codes is returned as is (copied). The result
// is deterministic.
func SketchCodes(codes []uint64, n, w, k int) []uint64 {
	if len(codes) != n*w {
		panic(fmt.Sprintf("maxsim: %d code words are not %d codes of %d words", len(codes), n, w))
	}
	if k < 1 {
		panic(fmt.Sprintf("maxsim: sketch size %d", k))
	}
	if n <= k {
		return append([]uint64(nil), codes...)
	}
	cent := make([]uint64, k*w)
	for c := 0; c < k; c++ {
		j := c * n / k
		copy(cent[c*w:(c+1)*w], codes[j*w:(j+1)*w])
	}
	assign := make([]int32, n)
	size := make([]int32, k)
	ones := make([]int32, k*w*64) // per centroid and bit: members with the bit set
	for round := 0; round < sketchRounds; round++ {
		moved := false
		for j := 0; j < n; j++ {
			c := nearestCode(codes[j*w:(j+1)*w], cent, w)
			if int32(c) != assign[j] || round == 0 {
				moved = true
			}
			assign[j] = int32(c)
		}
		if !moved {
			break
		}
		clear(size)
		clear(ones)
		for j := 0; j < n; j++ {
			c := int(assign[j])
			size[c]++
			for x, word := range codes[j*w : (j+1)*w] {
				base := (c*w + x) * 64
				for word != 0 {
					ones[base+bits.TrailingZeros64(word)]++
					word &= word - 1
				}
			}
		}
		for c := 0; c < k; c++ {
			for x := 0; x < w; x++ {
				word := cent[c*w+x]
				for b := 0; b < 64; b++ {
					switch twice := 2 * ones[(c*w+x)*64+b]; {
					case twice > size[c]:
						word |= 1 << b
					case twice < size[c]:
						word &^= 1 << b
					}
				}
				cent[c*w+x] = word
			}
		}
	}
	return cent
}

// nearestCode returns the index of the centroid (w words each) nearest to code by Hamming distance,
// the first one on ties.
func nearestCode(code, cent []uint64, w int) int {
	best, bestD := 0, w*64+1
	for c := 0; c*w < len(cent); c++ {
		d := 0
		for x, word := range code {
			d += bits.OnesCount64(word ^ cent[c*w+x])
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// UnpackCodes returns packed codes (see [PackCodes]) of w-word codes in the plain layout of [SignCodes].
func UnpackCodes(p PackedCodes, w int) []uint64 {
	if w != 2 || p.N == 0 {
		return append([]uint64(nil), p.Words[:p.N*w]...)
	}
	out := make([]uint64, 2*p.N)
	for j := 0; j < p.N; j++ {
		b, l := j/8, j%8
		out[2*j], out[2*j+1] = p.Words[b*16+l], p.Words[b*16+8+l]
	}
	return out
}
