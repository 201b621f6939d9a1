package index

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// synth makes collections with some structure, closer to real page embeddings than white noise:
// every page mixes vectors near a few shared "background" directions (margins, blank areas) with
// vectors near a few of many topic directions, and a query is made of noisy copies of vectors of one
// target page.
type synth struct {
	dim        int
	background [][]float32
	topics     [][]float32
}

func newSynth(seed uint64, dim, topics int) *synth {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &synth{dim: dim}
	for i := 0; i < 8; i++ {
		s.background = append(s.background, unitVec(r, dim))
	}
	for i := 0; i < topics; i++ {
		s.topics = append(s.topics, unitVec(r, dim))
	}
	return s
}

func unitVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for k := range v {
		v[k] = float32(r.NormFloat64())
	}
	return normalize(v)
}

func normalize(v []float32) []float32 {
	var n float64
	for _, f := range v {
		n += float64(f) * float64(f)
	}
	n = math.Sqrt(n)
	for k := range v {
		v[k] = float32(float64(v[k]) / n)
	}
	return v
}

// near returns a unit vector at roughly the given noise level around c.
func near(r *rand.Rand, c []float32, noise float64) []float32 {
	v := make([]float32, len(c))
	for k := range v {
		v[k] = c[k] + float32(noise*r.NormFloat64()/math.Sqrt(float64(len(c))))
	}
	return normalize(v)
}

// page returns n vectors for page number i (deterministic in i).
func (s *synth) page(i uint64, n int) [][]float32 {
	r := rand.New(rand.NewPCG(i, 7))
	mine := []int{r.IntN(len(s.topics)), r.IntN(len(s.topics)), r.IntN(len(s.topics))}
	out := make([][]float32, n)
	for j := range out {
		if r.IntN(2) == 0 {
			out[j] = near(r, s.background[r.IntN(len(s.background))], 0.6)
		} else {
			out[j] = near(r, s.topics[mine[r.IntN(len(mine))]], 0.9)
		}
	}
	return out
}

// query returns nq vectors near vectors of page (noisy copies of its topic vectors).
func (s *synth) query(seed uint64, page [][]float32, nq int) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 9))
	out := make([][]float32, nq)
	for j := range out {
		out[j] = near(r, page[r.IntN(len(page))], 1.0)
	}
	return out
}

// syntheticPages returns count pages of n vectors as index pages with small fake images.
func (s *synth) pages(first uint64, count, n int) []Page {
	out := make([]Page, count)
	for i := range out {
		no := first + uint64(i)
		out[i] = Page{
			Width: 100 + i, Height: 200, Tiles: Tiles{Rows: 1, Cols: i % 3},
			Thumb:   []byte(fmt.Sprintf("thumb %d", no)),
			Preview: []byte(fmt.Sprintf("preview %d", no)),
			Vectors: s.page(no, n),
		}
		out[i].ImagePositions = []int{0, n - 1}
	}
	return out
}
