package index

import (
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/colsmol/colsmol/maxsim"
)

// BenchmarkExactMaxSim is issue 5's benchmark: exact MaxSim over every page of an index of synthetic
// pages (1,030 vectors × 128, 25-vector query) read from the bbolt memory map, next to NumPy with
// OpenBLAS computing max(Q @ D.T, axis=1).sum() per page on the same float16 data, plus the bytes stored
// per page. It checks that both agree on the top 10 pages and their scores.
func BenchmarkExactMaxSim(b *testing.B) {
	for _, n := range []int{benchPages(2000), benchPages(10000)} {
		b.Run(fmt.Sprintf("pages=%d", n), func(b *testing.B) { benchExact(b, n) })
	}
}

func benchExact(b *testing.B, pages int) {
	bs := buildBenchStore(b, pages)
	s, err := Open(bs.db, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	q := bs.sy.query(7, bs.sy.page(uint64(pages/3), benchVectors), benchQuery)
	flop := 2.0 * benchQuery * benchVectors * benchDim * float64(pages)
	b.ResetTimer()
	var res []Result
	var secs []float64
	for i := 0; i < b.N; i++ {
		s.Search(q, 10, SearchOptions{Exact: true}) // warm the page cache
		secs = secs[:0]
		for r := 0; r < 5; r++ {
			start := time.Now()
			res, err = s.Search(q, 10, SearchOptions{Exact: true})
			secs = append(secs, time.Since(start).Seconds())
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.Logf("timed under %s", loadNote())
	t := median(secs)
	start := time.Now()
	s.Search(q, 10, SearchOptions{Exact: true, Workers: 1})
	t1 := time.Since(start).Seconds()
	st, err := s.Stats()
	if err != nil {
		b.Fatal(err)
	}
	threads := runtime.GOMAXPROCS(0)
	b.ReportMetric(float64(pages)/t, "pages/s")
	b.ReportMetric(flop/t/1e9, "GFLOP/s")
	b.ReportMetric(float64(pages)/t1, "pages/s/thread")
	b.ReportMetric(st.VectorBytesPerPage, "vector-B/page")
	b.ReportMetric(st.BytesPerPage, "file-B/page")
	b.Logf("colsmol exact MaxSim (%s): %d pages × %d×%d float16, %d-vector query, %d threads: %.0f pages/s, %.1f GFLOP/s (median of 5, %.1f ms/query); 1 thread %.0f pages/s",
		kernelName(), pages, benchVectors, benchDim, benchQuery, threads, float64(pages)/t, flop/t/1e9, t*1e3, float64(pages)/t1)
	b.Logf("stored: %.0f bytes/page in the file (%.0f of them float16 vectors = %.2f bytes/dimension, %.0f sign codes); index built in %.1f s",
		st.BytesPerPage, st.VectorBytesPerPage, st.VectorBytesPerPage/(benchVectors*benchDim), float64(st.CodeBytes)/float64(st.Pages), bs.buildSec)

	dir := filepath.Dir(bs.npy)
	qNpy, scoresNpy := filepath.Join(dir, fmt.Sprintf("q-%d.npy", pages)), filepath.Join(dir, fmt.Sprintf("scores-%d.npy", pages))
	if err := writeNpyF32(qNpy, q); err != nil {
		b.Fatal(err)
	}
	np, reason := runNumPy(b, bs.npy, qNpy, scoresNpy)
	b.Logf("NumPy ran under %s", loadNote())
	if reason != "" {
		b.Logf("NumPy baseline skipped: %s", reason)
		return
	}
	b.ReportMetric(np.PagesPerS, "numpy-pages/s")
	b.ReportMetric(float64(pages)/t/np.PagesPerS, "x-numpy")
	b.Logf("NumPy %s baseline, same data, %d threads, BLAS %v: %.0f pages/s, %.1f GFLOP/s on float32 batches (%.0f pages/s counting its float16→float32 conversion)",
		np.NumPy, threads, np.BLAS, np.PagesPerS, np.GFLOPPerS, np.PagesWithConvert)
	b.Logf("colsmol / NumPy = %.2f× (goal ≥ 1.5×)", float64(pages)/t/np.PagesPerS)
	checkAgainstNumPy(b, s, res, scoresNpy)
}

// checkAgainstNumPy compares colsmol's top 10 with the best 10 of NumPy's scores.
func checkAgainstNumPy(b *testing.B, s *Store, res []Result, scoresNpy string) {
	scores, err := readNpyF32(scoresNpy)
	if err != nil {
		b.Fatal(err)
	}
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return scores[order[i]] > scores[order[j]] })
	for i, r := range res {
		var docNo int
		fmt.Sscanf(r.Path, "bench/doc%06d.pdf", &docNo)
		page := docNo*10 + r.Page - 1
		want := float64(scores[order[i]])
		if math.Abs(float64(r.Score)-want) > 1e-5*math.Abs(want) || (page != order[i] && scores[page] != scores[order[i]]) {
			b.Errorf("rank %d: colsmol page %d score %v, NumPy page %d score %v", i+1, page, r.Score, order[i], want)
		}
	}
}

func kernelName() string { return maxsim.Kernels() }
