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
	for _, vectors := range []int{benchVectors, benchVectors / 3} {
		for _, pages := range []int{benchPages(10000), benchPages(100000)} {
			b.Run(fmt.Sprintf("codes-in-memory/pages=%d/vectors=%d", pages, vectors), func(b *testing.B) {
				benchSearchVirtual(b, pages, vectors)
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
	snap, err := s.snapshot()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for _, rerank := range []int{50, 100, DefaultRerank, 400} {
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

func benchSearchVirtual(b *testing.B, pages, vectors int) {
	workers := runtime.GOMAXPROCS(0)
	start := time.Now()
	c := newVirtualCollection(pages, vectors)
	snap := c.snapshot(workers)
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
	start = time.Now()
	exact := c.exactTop(queries, 10, workers)
	exactSec := time.Since(start).Seconds()
	b.Logf("%d pages × %d vectors: codes gathered in %.1f s (%.0f MB resident, %.0f bytes/page); exact ground truth for %d queries in %.1f s (%.0f pages/s per query, float16 assembled from the pool on the fly)",
		pages, vectors, built.Seconds(), float64(resident)/1e6, float64(resident)/float64(pages), nq, exactSec, float64(pages)*float64(nq)/exactSec)
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
				idx = c.indices(int(h.ID), idx)
				halves[int(h.ID)] = c.half(int(h.ID), idx, nil)
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
				if rep == 0 {
					var got []int
					for _, h := range top {
						got = append(got, int(hits[h.ID].ID))
					}
					r5 += overlap(got, exact[qi], 5) / float64(nq)
					r10 += overlap(got, exact[qi], 10) / float64(nq)
				}
			}
		}
		label := fmt.Sprintf("codes in memory, %d pages × %d vectors, binary + rerank %d", pages, vectors, DefaultRerank)
		lat.report(b, pages, label)
		b.ReportMetric(r5, "recall@5")
		b.ReportMetric(r10, "recall@10")
		b.Logf("%s: recall@5 %.3f, recall@10 %.3f against exact over the same vectors (%d queries)", label, r5, r10, nq)
	}
}

// benchPoolingQuality pools real synthetic pages with PoolHierarchical (factor 3) and measures how the
// pooled index ranks against exact MaxSim over the full pages.
func benchPoolingQuality(b *testing.B) {
	pages := benchPages(1000)
	workers := runtime.GOMAXPROCS(0)
	sy := newSynth(44, benchDim, 64)
	full := make([][]uint16, pages)
	pooled := make([][]uint16, pages)
	pooledN := make([]int, pages)
	codes := make([]pageCodes, pages)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < pages; i += workers {
				v := sy.page(uint64(i), benchVectors)
				full[i], _ = maxsim.EncodePage(v)
				p, _ := maxsim.PoolHierarchical(v, 3)
				pooled[i], _ = maxsim.EncodePage(p)
				pooledN[i] = len(p)
				codes[i] = pageCodes{page: i, codes: maxsim.PackCodes(maxsim.PageSignCodes(p), len(p), 2)}
			}
		}(w)
	}
	wg.Wait()
	poolSec := time.Since(start).Seconds()
	b.ResetTimer()
	items := func(h [][]uint16, n func(i int) int) []pageItem {
		out := make([]pageItem, len(h))
		for i := range h {
			out[i] = pageItem{half: h[i], n: n(i)}
		}
		return out
	}
	fullItems := items(full, func(int) int { return benchVectors })
	pooledItems := items(pooled, func(i int) int { return pooledN[i] })
	ids := func(hits []maxsim.Hit) []int {
		var out []int
		for _, h := range hits {
			out = append(out, int(h.ID))
		}
		return out
	}
	const nq = 20
	rerank := 50
	var e5, e10, t5, t10 float64
	var fullSec, pooledSec []float64
	r := rand.New(rand.NewPCG(8, 8))
	for i := 0; i < nq; i++ {
		q, _ := maxsim.NewQuery(sy.query(uint64(300+i), sy.page(uint64(r.IntN(pages)), benchVectors), benchQuery))
		t0 := time.Now()
		want := ids(scoreExact(q, fullItems, 10, workers))
		t1 := time.Now()
		pooledExact := ids(scoreExact(q, pooledItems, 10, workers))
		t2 := time.Now()
		fullSec, pooledSec = append(fullSec, t1.Sub(t0).Seconds()), append(pooledSec, t2.Sub(t1).Seconds())
		cands := firstPhase(q, codes, rerank, workers)
		sub := make([]pageItem, len(cands))
		for j, h := range cands {
			sub[j] = pooledItems[h.ID]
		}
		var two []int
		for _, h := range scoreExact(q, sub, 10, workers) {
			two = append(two, int(cands[h.ID].ID))
		}
		e5, e10 = e5+overlap(pooledExact, want, 5)/nq, e10+overlap(pooledExact, want, 10)/nq
		t5, t10 = t5+overlap(two, want, 5)/nq, t10+overlap(two, want, 10)/nq
	}
	b.ReportMetric(t5, "recall@5")
	b.ReportMetric(t10, "recall@10")
	b.Logf("pooling by 3 (PoolHierarchical, %.0f ms/page): %d pages, %d → %.0f vectors/page, float16 %d → %d byts/page",
		poolSec*1e3*float64(workers)/float64(pages), pages, benchVectors, float64(sumInts(pooledN))/float64(pages), benchVectors*benchDim*2, sumInts(pooledN)*benchDim*2/pages)
	b.Logf("pooled exact vs full exact: recall@5 %.3f, recall@10 %.3f; pooled binary + rerank %d vs full exact: recall@5 %.3f, recall@10 %.3f (%d queries)",
		e5, e10, rerank, t5, t10, nq)
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
