package maxsim

import (
	"container/heap"
	"sort"
)

// Hit is one scored item: an ID the caller chose (for the store, a page's position in its scan) and
// its score.
type Hit struct {
	ID    uint64
	Score float32
}

// TopK keeps the k best hits seen so far in a min-heap. Ties are broken by lower ID, so the result
// does not depend on the order hits arrive in. The zero value is not usable; call [NewTopK].
type TopK struct {
	k int
	h hitHeap
}

// NewTopK returns a [TopK] that keeps k hits (k ≥ 1).
func NewTopK(k int) *TopK {
	if k < 1 {
		k = 1
	}
	return &TopK{k: k, h: make(hitHeap, 0, k)}
}

// worse reports whether a ranks below b.
func worse(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.ID > b.ID
}

// Push offers a hit; it is kept if it is among the k best so far.
func (t *TopK) Push(id uint64, score float32) {
	h := Hit{ID: id, Score: score}
	if len(t.h) < t.k {
		heap.Push(&t.h, h)
		return
	}
	if worse(t.h[0], h) {
		t.h[0] = h
		heap.Fix(&t.h, 0)
	}
}

// Threshold returns the score a hit must beat to enter, or false while fewer than k hits are kept.
func (t *TopK) Threshold() (float32, bool) {
	if len(t.h) < t.k {
		return 0, false
	}
	return t.h[0].Score, true
}

// Merge offers every hit of o.
func (t *TopK) Merge(o *TopK) {
	for _, h := range o.h {
		t.Push(h.ID, h.Score)
	}
}

// Len returns how many hits are kept.
func (t *TopK) Len() int { return len(t.h) }

// Sorted returns the kept hits, best first.
func (t *TopK) Sorted() []Hit {
	out := append([]Hit(nil), t.h...)
	sort.Slice(out, func(i, j int) bool { return worse(out[j], out[i]) })
	return out
}

type hitHeap []Hit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return worse(h[i], h[j]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(Hit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
