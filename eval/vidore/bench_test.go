package vidore

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/colsmol/colsmol/maxsim"
)

// BenchmarkEvaluate measures the metrics of a TAT-DQA-sized run (1,646 queries × 277 pages).
func BenchmarkEvaluate(b *testing.B) {
	const nq, nd = 1646, 277
	rng := rand.New(rand.NewPCG(1, 2))
	qrels := Qrels{}
	run := make(Run, nq)
	for q := range nq {
		id := strconv.Itoa(q)
		qrels[id] = map[string]int{strconv.Itoa(rng.IntN(nd)): 1}
		run[q].QueryID = id
		for d := range nd {
			run[q].Docs = append(run[q].Docs, Scored{strconv.Itoa(d), float64(float32(rng.Float64() * 20))})
		}
	}
	b.ResetTimer()
	for b.Loop() {
		Evaluate(qrels, run)
	}
	b.ReportMetric(float64(b.N*nq)/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkScoreBlock measures exact MaxSim scoring of a block of 16 pages of 1,000 vectors against 64
// queries of 20 vectors (128 dimensions), the runner's inner loop.
func BenchmarkScoreBlock(b *testing.B) {
	const nq, np, qlen, plen, dim = 64, 16, 20, 1000, 128
	rng := rand.New(rand.NewPCG(3, 4))
	vec := func(n int) [][]float32 {
		out := make([][]float32, n)
		for i := range out {
			out[i] = make([]float32, dim)
			for k := range out[i] {
				out[i][k] = float32(rng.NormFloat64())
			}
		}
		return out
	}
	queries := make([]*maxsim.Query, nq)
	for i := range queries {
		queries[i], _ = maxsim.NewQuery(vec(qlen))
	}
	blk := make([]page, np)
	vecs := make([][][]float32, np)
	for i := range blk {
		blk[i].rows = []int{i}
		vecs[i] = vec(plen)
	}
	scores := make([][]float64, nq)
	for i := range scores {
		scores[i] = make([]float64, np)
	}
	r := &Runner{}
	b.ResetTimer()
	for b.Loop() {
		r.scoreBlock(blk, vecs, queries, scores)
	}
	b.ReportMetric(float64(b.N*nq*np)/b.Elapsed().Seconds(), "pairs/s")
}
