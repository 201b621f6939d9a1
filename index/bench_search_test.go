package index

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/colsmol/colsmol/maxsim"
)

// BenchmarkSearch is issue 10's benchmark: query latency (excluding query embedding), coarse-phase
// throughput and recall@5/@10 of the binary search (sketch phase, full-code phase, exact rerank) against
// exact ranking, at 10,000 pages (a real index file) and 100,000 pages (sketches and codes in memory,
// float16 assembled only for reranked pages, see virtualCollection), with full pages (1,030 vectors)
// and with pages pooled by 3 (343).
func BenchmarkSearch(b *testing.B) {
	b.Run(fmt.Sprintf("store/pages=%d", benchPages(10000)), benchSearchStore)
	for _, vectors := range []int{benchVectors, benchVectors / 3} {
		for _, pages := range []int{benchPages(10000), benchPages(100000)} {
			b.Run(fmt.Sprintf("in-memory/pages=%d/vectors=%d", pages, vectors), func(b *testing.B) {
				benchSearchVirtual(b, pages, vectors, 50)
			})
		}
	}
	// The hard case for sketches: the matching content is a small region (5% of the page, about 50
	// vectors) among background, and the query is about that region only.
	b.Run(fmt.Sprintf("in-memory/pages=%d/vectors=%d/region=5%%", benchPages(100000), benchVectors), func(b *testing.B) {
		benchSearchVirtual(b, benchPages(100000), benchVectors, 5)
	})
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
	b.Logf("sketches of %d pages loaded from the index in %.0f ms (once per process)", len(snap.pages), time.Since(loadStart).Seconds()*1e3)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for _, o := range []SearchOptions{{Rerank: 100}, {Rerank: 200}, {Candidates: 1000}, {Candidates: 2000}, {Candidates: pages}, {}} {
			var lat latencies
			var r5, r10 float64
			for qi, q := range queries {
				query, _ := maxsim.NewQuery(q)
				for rep := 0; rep < 3; rep++ {
					t0 := time.Now()
					sketchPhase(query, snap.pages, DefaultCandidates, runtime.GOMAXPROCS(0))
					t1 := time.Now()
					res, err := s.Search(q, 10, o)
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
			label := fmt.Sprintf("index file, %d pages × %d vectors, %s", pages, benchVectors, describe(o, pages))
			if o == (SearchOptions{}) {
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
	b.Logf("resident for search: %.1f MB (%.0f bytes/page, the sketches); full codes %.0f MB and float16 %.0f MB read through the page cache; exact scan of this index: see BenchmarkExactMaxSim",
		float64(st.ResidentBytes)/1e6, float64(st.ResidentBytes)/float64(st.Pages), float64(st.CodeBytes)/1e6, float64(st.VectorBytes)/1e6)
}

// describe names the phases SearchOptions o runs on an index of pages pages.
func describe(o SearchOptions, pages int) string {
	c, r := cmp.Or(o.Candidates, DefaultCandidates), cmp.Or(o.Rerank, DefaultRerank)
	if pages <= 2*c {
		return fmt.Sprintf("full codes of all pages, rerank %d", r)
	}
	return fmt.Sprintf("sketches → %d candidates → full codes → rerank %d", c, r)
}

// benchSearchVirtual times binary searches over pages of the given number of vectors, with the store's
// phases over in-memory sketches and codes: the sketch phase for DefaultCandidates and smaller candidate
// counts, and without it (full codes of every page), each followed by the exact rerank of DefaultRerank.
func benchSearchVirtual(b *testing.B, pages, vectors, topicPct int) {
	workers := runtime.GOMAXPROCS(0)
	start := time.Now()
	c := newVirtualCollection(pages, vectors, topicPct)
	sketches, codes := c.snapshot(workers)
	sketchBytes, codeBytes := 0, 0
	for i := range sketches {
		sketchBytes += sketches[i].sketch.Bytes() + pageOverhead
		codeBytes += len(codes[i].words)
	}
	const nq = 20
	var queries []*maxsim.Query
	r := rand.New(rand.NewPCG(6, 6))
	for i := 0; i < nq; i++ {
		q, _ := maxsim.NewQuery(c.query(uint64(200+i), r.IntN(pages), benchQuery))
		queries = append(queries, q)
	}
	b.Logf("%d pages × %d vectors (%d%% near the page's topics): sketches and codes made in %.1f s; resident sketches %.0f MB (%.0f bytes/page), full codes %.0f MB (read from the page cache by the store)",
		pages, vectors, topicPct, time.Since(start).Seconds(), float64(sketchBytes)/1e6, float64(sketchBytes)/float64(pages), float64(codeBytes)/1e6)
	start = time.Now()
	exact := c.exactTop(queries, 10, workers)
	exactSec := time.Since(start).Seconds()
	b.Logf("exact ground truth for %d queries in %.1f s (%.0f pages/s per query, float16 assembled from the pool on the fly)",
		nq, exactSec, float64(pages)*float64(nq)/exactSec)
	// search runs the phases and returns the reranked page numbers and the time of each phase.
	search := func(q *maxsim.Query, candidates int, halves map[int][]uint16) (top []int, reranked []int, sec [3]float64) {
		t0 := time.Now()
		sub := codes
		var coarse []maxsim.Hit
		if candidates > 0 && pages > 2*candidates {
			coarse = sketchPhase(q, sketches, candidates, workers)
			sub = make([]storedCodes, len(coarse))
			for j, h := range coarse {
				sub[j] = codes[h.ID]
			}
		}
		t1 := time.Now()
		best := codePhase(q, sub, DefaultRerank, workers)
		t2 := time.Now()
		items := make([]pageItem, len(best))
		for j, h := range best {
			id := int(h.ID)
			if coarse != nil {
				id = int(coarse[h.ID].ID)
			}
			reranked = append(reranked, id)
			items[j] = pageItem{half: halves[id], n: vectors}
		}
		if halves != nil {
			for _, h := range scoreExact(q, items, 10, workers) {
				top = append(top, reranked[h.ID])
			}
		}
		t3 := time.Now()
		return top, reranked, [3]float64{t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), t3.Sub(t2).Seconds()}
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for _, candidates := range []int{0, 1000, 2000, DefaultCandidates, 8000} {
			if candidates > 0 && pages <= 2*candidates {
				continue
			}
			var lat latencies
			var phases [3][]float64
			var r5, r10 float64
			for qi, q := range queries {
				// Assemble the float16 pages the rerank will read (untimed), as the index file holds them.
				_, reranked, _ := search(q, candidates, nil)
				halves := map[int][]uint16{}
				var idx []int32
				for _, id := range reranked {
					idx = c.indices(id, idx)
					halves[id] = c.half(id, idx, nil)
				}
				for rep := 0; rep < 3; rep++ {
					top, _, sec := search(q, candidates, halves)
					first := sec[0] // the phase that reads every page
					if candidates == 0 {
						first = sec[1]
					}
					lat.first = append(lat.first, first)
					lat.total = append(lat.total, sec[0]+sec[1]+sec[2])
					for p := range phases {
						phases[p] = append(phases[p], sec[p])
					}
					if rep == 0 {
						r5 += overlap(top, exact[qi], 5) / nq
						r10 += overlap(top, exact[qi], 10) / nq
					}
				}
			}
			label := fmt.Sprintf("%d pages × %d vectors, full codes of every page, rerank %d", pages, vectors, DefaultRerank)
			if candidates > 0 {
				label = fmt.Sprintf("%d pages × %d vectors, sketches → %d candidates → full codes → rerank %d", pages, vectors, candidates, DefaultRerank)
			}
			if candidates == DefaultCandidates || (candidates == 0 && pages <= 2*DefaultCandidates) {
				lat.report(b, pages, label)
				b.ReportMetric(r5, "recall@5")
				b.ReportMetric(r10, "recall@10")
			} else {
				b.Logf("%s: latency p50 %.1f ms, p99 %.1f ms", label, percentile(lat.total, 50)*1e3, percentile(lat.total, 99)*1e3)
			}
			b.Logf("%s: phases p50 %.1f / %.1f / %.1f ms (sketches, full codes, exact); recall@5 %.3f, recall@10 %.3f against exact (%d queries)",
				label, median(phases[0])*1e3, median(phases[1])*1e3, median(phases[2])*1e3, r5, r10, nq)
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
	fullCodes := make([]storedCodes, pages)
	pooledCodes := make([]storedCodes, pages)
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
				fullCodes[i] = storedForm(v)
				p, _ := maxsim.PoolHierarchical(v, 3)
				h, _ = maxsim.EncodePage(p)
				pooled[i] = pageItem{half: h, n: len(p)}
				pooledCodes[i] = storedForm(p)
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
	twoPhase := func(q *maxsim.Query, codes []storedCodes, items []pageItem, rerank int) []int {
		cands := codePhase(q, codes, rerank, workers)
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

// storedForm returns a page's full sign codes as the index stores them.
func storedForm(vecs [][]float32) storedCodes {
	v := encodeCodes(maxsim.PackCodes(maxsim.PageSignCodes(vecs), len(vecs), 2))
	return storedCodes{n: len(vecs), words: v[8:]}
}

func sumInts(v []int) int {
	t := 0
	for _, x := range v {
		t += x
	}
	return t
}
