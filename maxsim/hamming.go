package maxsim

import (
	"fmt"
	"math/bits"
)

// HammingScorer scores pages by binary MaxSim over sign codes (Vespa's "binary-binary" first phase):
// for each query vector, the best agreement over the page's vectors, summed:
//
//	Σ_q max_d (dim − 2·hamming(code(q), code(d)))
//
// dim − 2·hamming is the dot product of the ±1 sign vectors, so the score is on the scale of an exact
// MaxSim of unit vectors times √dim·√dim. It is not safe for concurrent use; make one per goroutine.
type HammingScorer struct {
	q       *Query
	mins    []int
	scratch []uint64 // ScorePackedBytes without the vector kernel
}

// HammingScorer returns a new [HammingScorer] for q.
func (q *Query) HammingScorer() *HammingScorer {
	return &HammingScorer{q: q, mins: make([]int, q.N)}
}

// Score returns the binary MaxSim of the query against a page of n vectors whose sign codes
// ([Words](Dim) words each, as made by [SignCodes]) are in codes. A page with no vectors scores 0.
func (h *HammingScorer) Score(codes []uint64, n int) int {
	if n == 0 {
		return 0
	}
	w := Words(h.q.Dim)
	if len(codes) != n*w {
		panic(fmt.Sprintf("maxsim: %d code words are not %d codes of %d words", len(codes), n, w))
	}
	for i := range h.mins {
		h.mins[i] = h.q.Dim + 1
	}
	if w == 2 {
		minHamming2(h.q.Codes, codes, h.mins)
	} else {
		minHamming(h.q.Codes, codes, h.mins, w)
	}
	total := 0
	for _, m := range h.mins {
		total += h.q.Dim - 2*m
	}
	return total
}

// minHamming2 lowers mins[i] to the least Hamming distance between query code i and any page code,
// for codes of two words (dim ≤ 128).
func minHamming2(q, d []uint64, mins []int) {
	q = q[:2*len(mins)]
	for j := 0; j+1 < len(d); j += 2 {
		d0, d1 := d[j], d[j+1]
		for i := range mins {
			h := bits.OnesCount64(q[2*i]^d0) + bits.OnesCount64(q[2*i+1]^d1)
			if h < mins[i] {
				mins[i] = h
			}
		}
	}
}

func minHamming(q, d []uint64, mins []int, w int) {
	for j := 0; j+w <= len(d); j += w {
		dc := d[j : j+w]
		for i := range mins {
			qc := q[i*w : (i+1)*w]
			h := 0
			for x := range dc {
				h += bits.OnesCount64(qc[x] ^ dc[x])
			}
			if h < mins[i] {
				mins[i] = h
			}
		}
	}
}

func onesCount(x uint64) int { return bits.OnesCount64(x) }
