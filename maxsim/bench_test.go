package maxsim

import (
	"fmt"
	"testing"
)

// kernelVariants lists the kernels this CPU can run, fastest first, with a function that selects one
// and returns a function restoring the previous choice.
func kernelVariants() []struct {
	name string
	set  func() func()
} {
	saved := func() func() {
		s := [4]bool{useBlocked, useVPOPCNT, useF16C, useWide}
		return func() { useBlocked, useVPOPCNT, useF16C, useWide = s[0], s[1], s[2], s[3] }
	}
	var out []struct {
		name string
		set  func() func()
	}
	add := func(name string, f func()) {
		out = append(out, struct {
			name string
			set  func() func()
		}{name, func() func() { r := saved(); f(); return r }})
	}
	if useWide {
		add("avx512", func() {})
	}
	if useBlocked {
		add("avx2", func() { useWide = false })
	}
	add("portable", func() { useBlocked, useVPOPCNT, useF16C, useWide = false, false, false, false })
	return out
}

// reps repeats each timed operation so that `-benchtime 1x` (make bench) still times a few
// milliseconds of work.
const reps = 200

// BenchmarkScoreHalf scores one 1,030×128 float16 page against a 25-vector query on one goroutine.
func BenchmarkScoreHalf(b *testing.B) {
	r := newRand()
	qv := randVecs(r, 25, 128)
	page := mustEncodeB(b, randVecs(r, 1030, 128))
	for _, v := range kernelVariants() {
		b.Run(v.name, func(b *testing.B) {
			defer v.set()()
			q, _ := NewQuery(qv)
			s := q.Scorer()
			for i := 0; i < b.N*reps; i++ {
				s.ScoreHalf(page, 1030)
			}
			pages := float64(b.N*reps) / b.Elapsed().Seconds()
			b.ReportMetric(pages, "pages/s")
			b.ReportMetric(pages*2*25*1030*128/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkHamming scores one page's packed sign codes against a 25-vector query on one goroutine.
func BenchmarkHamming(b *testing.B) {
	r := newRand()
	q, _ := NewQuery(randVecs(r, 25, 128))
	for _, n := range []int{1030, 343} {
		codes := PackCodes(PageSignCodes(randVecs(r, n, 128)), n, 2)
		for _, v := range kernelVariants() {
			if v.name == "avx2" {
				continue // same popcount kernel as avx512
			}
			b.Run(fmt.Sprintf("vectors=%d/%s", n, v.name), func(b *testing.B) {
				defer v.set()()
				h := q.HammingScorer()
				for i := 0; i < b.N*reps; i++ {
					h.ScorePacked(codes)
				}
				b.ReportMetric(float64(b.N*reps)/b.Elapsed().Seconds(), "pages/s")
			})
		}
	}
}

// BenchmarkPoolHierarchical pools one 1,030×128 page by 3.
func BenchmarkPoolHierarchical(b *testing.B) {
	page := randVecs(newRand(), 1030, 128)
	for i := 0; i < b.N; i++ {
		PoolHierarchical(page, 3)
	}
}

func mustEncodeB(b *testing.B, v [][]float32) []uint16 {
	p, err := EncodePage(v)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkSketchCodes sketches one page's sign codes to DefaultSketchSize codes (done once per page
// at indexing time, and for every page when a schema 2 index is upgraded).
func BenchmarkSketchCodes(b *testing.B) {
	r := newRand()
	for _, n := range []int{1030, 343} {
		codes := PageSignCodes(randVecs(r, n, 128))
		b.Run(fmt.Sprintf("vectors=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				SketchCodes(codes, n, 2, DefaultSketchSize)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/page")
		})
	}
}
