package index

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/colsmol/colsmol/maxsim"
)

// BenchmarkSearch is issue 10's benchmark: query latency (excluding query embedding), first-phase
// throughput and recall@5/@10 of binary first phase + exact rerank against exact ranking, at 10,000 pages
// (a real index file) and 100,000 pages (sign codes in memory, float16 assembled only for reranked
// pages, see virtualCollection), with full pages (1,030 vectors) and with pages pooled by 3 (343).
func BenchmarkSearch(b *testing.B) {
	b.Run(fmt.Sprintf("store/pages=%d", benchPages(10000)), benchSearchStore)
	for _, v := range [][2]int{{benchVectors, benchVectors}, {benchVectors / 3, benchVectors / 3}, {benchVectors / 3, benchVectors}} {
		for _, pages := range []int{benchPages(10000), benchPages(100000)} {
			b.Run(fmt.Sprintf("codes-in-memory/pages=%d/codes=%d/rerank-vectors=%d", pages, v[0], v[1]), func(b *testing.B) {
				benchSearchVirtual(b, pages, v[0], v[1])
			})
		}
	}
	b.Run(fmt.Sprintf("pooling-quality/pages=%d", benchPages(1000)), benchPoolingQuality)
}

type latencies struct {
	first, total []float64 // seconds
}

func (l latencies) report(b *testing.B, pages int, label string) {
	b.ReportMetric(percentile(l.total, 50)*1e3, "p50-ms")
	b.ReportMetric(percentile(l.total, 99)*1e3, "p99-ms")
	b.ReportMetric(float64(pages)/median(l.first), "first-phase-pages/s")
	b.Logf("%s: latency p50 %.1f ms, p99 %.1f ms (%d searches); first phase p50 %.1f ms = %.0f pages/s (%s)",
		label, percentile(l.total, 50)*1e3, percentile(l.total, 99)*1e3, len(l.total), median(l.first)*1e3, float64(pages)/median(l.first), loadNote())
}

func benchSearchStore(b *testing.B) {
	pages := benchPages(10000)
	bs := buildBenchStore(b, pages)
	s, err := Open(bs.db, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(5, 5))
	const nq = 20
	type key struct {
		doc  string
		page int
	}
	var queries [][][]float32
	var exact [][]key
	for i := 0; i < nq; i++ {
		q := bs.sy.query(uint64(100+i), bs.sy.page(uint64(r.IntN(pages)), benchVectors), benchQuery)
		res, err := s.Search(q, 10, SearchOptions{Exact: true})
		if err != nil {
			b.Fatal(err)
		}
		var ks []key
		for _, x := range res {
			ks = append(ks, key{x.DocID, x.Page})
		}
		queries, exact = append(queries, q), append(exact, ks)
	}
	loadStart := time.Now()
	snap, err := s.snapshot()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("sign codes of %d pages loaded from the index in %.0f ms (once per process)", len(snap.pages), time.Since(loadStart).Seconds()*1e3)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for _, rerank := range []int{50, 100, 200, 400} {
			var lat latencies
			var r5, r10 float64
			for qi, q := range queries {
				query, _ := maxsim.NewQuery(q)
				for rep := 0; rep < 3; rep++ {
					t0 := time.Now()
					firstPhase(query, snap.pages, rerank, runtime.GOMAXPROCS(0))
					t1 := time.Now()
					res, err := s.Search(q, 10, SearchOptions{Rerank: rerank})
					t2 := time.Now()
					if err != nil {
						b.Fatal(err)
					}
					lat.first, lat.total = append(lat.first, t1.Sub(t0).Seconds()), append(lat.total, t2.Sub(t1).Seconds())
					if rep == 0 {
						var ks []key
						for _, x := range res {
							ks = append(ks, key{x.DocID, x.Page})
						}
						r5 += overlap(ks, exact[qi], 5) / nq
						r10 += overlap(ks, exact[qi], 10) / nq
					}
				}
			}
			label := fmt.Sprintf("index file, %d pages × %d vectors, binary + rerank %d", pages, benchVectors, rerank)
			if rerank == DefaultRerank {
				lat.report(b, pages, label)
				b.ReportMetric(r5, "recall@5")
				b.ReportMetric(r10, "recall@10")
			} else {
				b.Logf("%s: latency p50 %.1f ms, p99 %.1f ms", label, percentile(lat.total, 50)*1e3, percentile(lat.total, 99)*1e3)
			}
			b.Logf("%s: recall@5 %.3f, recall@10 %.3f against exact (%d queries)", label, r5, r10, nq)
		}
	}
	st, _ := s.Stats()
	b.Logf("codes resident: %.1f MB (%.0f bytes/page); exact scan of this index: see BenchmarkExactMaxSim", float64(st.ResidentBytes)/1e6, float64(st.ResidentBytes)/float64(st.Pages))
}

// benchSearchVirtual times two-phase searches over pages whose first phase has codeVectors codes and
// whose rerank reads rerankVectors float16 vectors. With codeVectors < rerankVectors it stands for
// Options.CodePool; the codes then do not belong to the reranked vectors (different synthetic pages),
// so it reports latency only (recall: see pooling-quality).
func benchSearchVirtual(b *testing.B, pages, codeVectors, rerankVectors int) {
	workers := runtime.GOMAXPROCS(0)
	start := time.Now()
	c := newVirtualCollection(pages, codeVectors)
	snap := c.snapshot(workers)
	vectors := codeVectors
	rc := c
	if rerankVectors != codeVectors {
		rc, vectors = newVirtualCollection(pages, rerankVectors), rerankVectors
	}
	resident := 0
	for _, pc := range snap {
		resident += pc.codes.Bytes() + pageOverhead
	}
	nq := 10
	var queries []*maxsim.Query
	r := rand.New(rand.NewPCG(6, 6))
	for i := 0; i < nq; i++ {
		q, _ := maxsim.NewQuery(c.query(uint64(200+i), r.IntN(pages), benchQuery))
		queries = append(queries, q)
	}
	built := time.Since(start)
	b.Logf("%d pages × %d codes: codes gathered in %.1f s (%.0f MB resident, %.0f bytes/page)",
		pages, codeVectors, built.Seconds(), float64(resident)/1e6, float64(resident)/float64(pages))
	var exact [][]int
	if rc == c {
		start = time.Now()
		exact = c.exactTop(queries, 10, workers)
		exactSec := time.Since(start).Seconds()
		b.Logf("exact ground truth for %d queries in %.1f s (%.0f pages/s per query, float16 assembled from the pool on the fly)",
			nq, exactSec, float64(pages)*float64(nq)/exactSec)
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		var lat latencies
		var r5, r10 float64
		for qi, q := range queries {
			// Assemble the float16 pages the rerank will read (untimed), as the index file would hold them.
			cands := firstPhase(q, snap, DefaultRerank, workers)
			halves := map[int][]uint16{}
			var idx []int32
			for _, h := range cands {
				idx = rc.indices(int(h.ID), idx)
				halves[int(h.ID)] = rc.half(int(h.ID), idx, nil)
			}
			for rep := 0; rep < 3; rep++ {
				t0 := time.Now()
				hits := firstPhase(q, snap, DefaultRerank, workers)
				t1 := time.Now()
				items := make([]pageItem, len(hits))
				for i, h := range hits {
					items[i] = pageItem{half: halves[int(h.ID)], n: vectors}
				}
				top := scoreExact(q, items, 10, workers)
				t2 := time.Now()
				lat.first, lat.total = append(lat.first, t1.Sub(t0).Seconds()), append(lat.total, t2.Sub(t0).Seconds())
				if rep == 0 && exact != nil {
					var got []int
					for _, h := range top {
						got = append(got, int(hits[h.ID].ID))
					}
					r5 += overlap(got, exact[qi], 5) / float64(nq)
					r10 += overlap(got, exact[qi], 10) / float64(nq)
				}
			}
		}
		label := fmt.Sprintf("codes in memory, %d pages, %d codes/page, binary + rerank %d on %d-vector pages", pages, codeVectors, DefaultRerank, vectors)
		lat.report(b, pages, label)
		if exact != nil {
			b.ReportMetric(r5, "recall@5")
			b.ReportMetric(r10, "recall@10")
			b.Logf("%s: recall@5 %.3f, recall@10 %.3f against exact over the same vectors (%d queries)", label, r5, r10, nq)
		}
	}
}

// benchPoolingQuality pools real synthetic pages with PoolHierarchical (factor 3) and measures, against
// exact MaxSim over the full pages: pooled pages scored exactly (pooling done by the indexer), pooled
// pages through binary + rerank, and Options.CodePool (first phase on pooled codes, rerank on the full
// vectors), next to binary + rerank on full codes, at the same rerank depths.
func benchPoolingQuality(b *testing.B) {
	pages := benchPages(1000)
	workers := runtime.GOMAXPROCS(0)
	sy := newSynth(44, benchDim, 64)
	full := make([]pageItem, pages)
	pooled := make([]pageItem, pages)
	fullCodes := make([]pageCodes, pages)
	pooledCodes := make([]pageCodes, pages)
	pooledN := 0
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < pages; i += workers {
				v := sy.page(uint64(i), benchVectors)
				h, _ := maxsim.EncodePage(v)
				full[i] = pageItem{half: h, n: len(v)}
				fullCodes[i] = pageCodes{page: i, codes: maxsim.PackCodes(maxsim.PageSignCodes(v), len(v), 2)}
				p, _ := maxsim.PoolHierarchical(v, 3)
				h, _ = maxsim.EncodePage(p)
				pooled[i] = pageItem{half: h, n: len(p)}
				pooledCodes[i] = pageCodes{page: i, codes: maxsim.PackCodes(maxsim.PageSignCodes(p), len(p), 2)}
				mu.Lock()
				pooledN += len(p)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	poolMs := time.Since(start).Seconds() * 1e3 * float64(workers) / float64(pages)
	b.ResetTimer()
	ids := func(hits []maxsim.Hit, cands []maxsim.Hit) []int {
		var out []int
		for _, h := range hits {
			if cands != nil {
				h = cands[h.ID]
			}
			out = append(out, int(h.ID))
		}
		return out
	}
	twoPhase := func(q *maxsim.Query, codes []pageCodes, items []pageItem, rerank int) []int {
		cands := firstPhase(q, codes, rerank, workers)
		sub := make([]pageItem, len(cands))
		for j, h := range cands {
			sub[j] = items[h.ID]
		}
		return ids(scoreExact(q, sub, 10, workers), cands)
	}
	const nq = 20
	type recall struct{ r5, r10 float64 }
	add := func(r *recall, got, want []int) {
		r.r5 += overlap(got, want, 5) / nq
		r.r10 += overlap(got, want, 10) / nq
	}
	var pooledExact recall
	depths := []int{max(20, pages/50), max(50, pages/20)}
	fullBin, codePool, pooledBin := make([]recall, len(depths)), make([]recall, len(depths)), make([]recall, len(depths))
	var fullSec, pooledSec []float64
	r := rand.New(rand.NewPCG(8, 8))
	for i := 0; i < nq; i++ {
		q, _ := maxsim.NewQuery(sy.query(uint64(300+i), sy.page(uint64(r.IntN(pages)), benchVectors), benchQuery))
		t0 := time.Now()
		want := ids(scoreExact(q, full, 10, workers), nil)
		t1 := time.Now()
		add(&pooledExact, ids(scoreExact(q, pooled, 10, workers), nil), want)
		t2 := time.Now()
		fullSec, pooledSec = append(fullSec, t1.Sub(t0).Seconds()), append(pooledSec, t2.Sub(t1).Seconds())
		for d, depth := range depths {
			add(&fullBin[d], twoPhase(q, fullCodes, full, depth), want)
			add(&codePool[d], twoPhase(q, pooledCodes, full, depth), want)
			add(&pooledBin[d], twoPhase(q, pooledCodes, pooled, depth), want)
		}
	}
	b.ReportMetric(codePool[0].r10, "codepool-recall@10")
	b.ReportMetric(pooledExact.r10, "pooled-exact-recall@10")
	b.Logf("pooling by 3 (PoolHierarchical, %.0f ms/page): %d pages, %d → %.0f vectors/page, float16 %d → %d bytes/page; %d queries; recall against exact MaxSim over the full pages:",
		poolMs, pages, benchVectors, float64(pooledN)/float64(pages), benchVectors*benchDim*2, pooledN*benchDim*2/pages, nq)
	b.Logf("  pooled pages, exact: recall@5 %.3f, recall@10 %.3f", pooledExact.r5, pooledExact.r10)
	for d, depth := range depths {
		b.Logf("  rerank %d: full codes + full rerank %.3f/%.3f; pooled codes (Options.CodePool) + full rerank %.3f/%.3f; pooled pages %.3f/%.3f (recall@5/@10)",
			depth, fullBin[d].r5, fullBin[d].r10, codePool[d].r5, codePool[d].r10, pooledBin[d].r5, pooledBin[d].r10)
	}
	b.Logf("exact scan: full pages %.0f pages/s, pooled %.0f pages/s (%.2f× faster)",
		float64(pages)/median(fullSec), float64(pages)/median(pooledSec), median(fullSec)/median(pooledSec))
}

func sumInts(v []int) int {
	t := 0
	for _, x := range v {
		t += x
	}
	return t
}
