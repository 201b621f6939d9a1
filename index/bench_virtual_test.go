package index

import (
	"math/rand/v2"
	"sync"

	"github.com/colsmol/colsmol/maxsim"
)

// virtualCollection is a synthetic collection too large to store as float16 (100,000 pages × 1,030
// vectors would be 26 GB): every page vector is drawn from a fixed pool of 69,632 unit vectors (variants
// of 8 background and 256 topic directions, as in synth; a page has 3 topics, and topicPct of its vectors
// are near them), so a page is just a deterministic list of pool indexes. Its sketches and sign codes are
// gathered into memory; its float16 vectors are assembled only for the pages a search rescores (and for
// the exact ground truth).
type virtualCollection struct {
	pages, vectors int
	topicPct       int // share of a page's vectors near its topics, in percent; the rest is background
	pool           [][]float32
	pool16         []uint16 // row-major float16 of pool
	codes          []uint64 // two words per pool vector
}

const (
	vcBackground = 8 * 512
	vcVariants   = 256
	vcTopics     = 256
)

func newVirtualCollection(pages, vectors, topicPct int) *virtualCollection {
	sy := newSynth(43, benchDim, vcTopics)
	r := rand.New(rand.NewPCG(43, 2))
	c := &virtualCollection{pages: pages, vectors: vectors, topicPct: topicPct}
	for i := 0; i < vcBackground; i++ {
		c.pool = append(c.pool, near(r, sy.background[i%len(sy.background)], 0.6))
	}
	for t := 0; t < vcTopics; t++ {
		for v := 0; v < vcVariants; v++ {
			c.pool = append(c.pool, near(r, sy.topics[t], 0.9))
		}
	}
	c.pool16 = make([]uint16, 0, len(c.pool)*benchDim)
	for _, v := range c.pool {
		for _, x := range v {
			c.pool16 = append(c.pool16, maxsim.FromFloat32(x))
		}
	}
	c.codes = maxsim.PageSignCodes(c.pool)
	return c
}

// indices returns the pool indexes of page i's vectors.
func (c *virtualCollection) indices(i int, buf []int32) []int32 {
	r := rand.New(rand.NewPCG(uint64(i), 13))
	t := [3]int{r.IntN(vcTopics), r.IntN(vcTopics), r.IntN(vcTopics)}
	buf = buf[:0]
	for j := 0; j < c.vectors; j++ {
		if r.IntN(100) >= c.topicPct {
			buf = append(buf, int32(r.IntN(vcBackground)))
		} else {
			buf = append(buf, int32(vcBackground+t[r.IntN(3)]*vcVariants+r.IntN(vcVariants)))
		}
	}
	return buf
}

// half returns page i's vectors as dimension-major float16.
func (c *virtualCollection) half(i int, idx []int32, buf []uint16) []uint16 {
	n := c.vectors
	if cap(buf) < n*benchDim {
		buf = make([]uint16, n*benchDim)
	}
	buf = buf[:n*benchDim]
	for j, p := range idx {
		row := c.pool16[int(p)*benchDim : int(p+1)*benchDim]
		for k, h := range row {
			buf[k*n+j] = h
		}
	}
	return buf
}

// snapshot gathers what the store holds for the binary phases: every page's sketch (in memory, as the
// store's snapshot) and its full sign codes in stored form (in the store read in place from the memory
// map; here from memory).
func (c *virtualCollection) snapshot(workers int) ([]pageSketch, []storedCodes) {
	sketches := make([]pageSketch, c.pages)
	codes := make([]storedCodes, c.pages)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var idx []int32
			raw := make([]uint64, 2*c.vectors)
			for i := w; i < c.pages; i += workers {
				idx = c.indices(i, idx)
				for j, p := range idx {
					raw[2*j], raw[2*j+1] = c.codes[2*p], c.codes[2*p+1]
				}
				sketches[i] = pageSketch{page: i, sketch: sketchOf(raw, c.vectors, 2)}
				v := encodeCodes(maxsim.PackCodes(raw, c.vectors, 2))
				codes[i] = storedCodes{n: c.vectors, words: v[8:]}
			}
		}(w)
	}
	wg.Wait()
	return sketches, codes
}

// query returns nq noisy copies of page i's vectors. When the page's topic vectors are a small share
// (a small relevant region on a page of background), the copies are of its topic vectors only, as a
// query's words match the region rather than the margins.
func (c *virtualCollection) query(seed uint64, i, nq int) [][]float32 {
	idx := c.indices(i, nil)
	if c.topicPct < 50 {
		var topical []int32
		for _, p := range idx {
			if p >= vcBackground {
				topical = append(topical, p)
			}
		}
		if len(topical) > 0 {
			idx = topical
		}
	}
	r := rand.New(rand.NewPCG(seed, 9))
	q := make([][]float32, nq)
	for j := range q {
		q[j] = near(r, c.pool[idx[r.IntN(len(idx))]], 1.0)
	}
	return q
}

// exactTop returns the exact top k page numbers for each query, scoring every page on workers goroutines.
func (c *virtualCollection) exactTop(queries []*maxsim.Query, k, workers int) [][]int {
	tops := make([][]*maxsim.TopK, workers)
	var wg sync.WaitGroup
	for w := range tops {
		tops[w] = make([]*maxsim.TopK, len(queries))
		scorers := make([]*maxsim.Scorer, len(queries))
		for qi, q := range queries {
			tops[w][qi], scorers[qi] = maxsim.NewTopK(k), q.Scorer()
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var idx []int32
			var buf []uint16
			for i := w; i < c.pages; i += workers {
				idx = c.indices(i, idx)
				buf = c.half(i, idx, buf)
				for qi, sc := range scorers {
					tops[w][qi].Push(uint64(i), sc.ScoreHalf(buf, c.vectors))
				}
			}
		}(w)
	}
	wg.Wait()
	out := make([][]int, len(queries))
	for qi := range queries {
		for _, t := range tops[1:] {
			tops[0][qi].Merge(t[qi])
		}
		for _, h := range tops[0][qi].Sorted() {
			out[qi] = append(out[qi], int(h.ID))
		}
	}
	return out
}
