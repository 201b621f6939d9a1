package embed

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/colsmol/colsmol/internal/modelbuild"
	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
)

// matmulPeak reports ONNX Runtime's rate on an n×n×n MatMul in the given precision ("fp32" or "int8"), in
// GOP/s, best of a few runs.
func matmulPeak(b *testing.B, precision string, threads int) float64 {
	const n = 2048
	path := filepath.Join(b.TempDir(), "matmul.onnx")
	if err := modelbuild.WriteMatMulGraph(path, n, precision); err != nil {
		b.Fatal(err)
	}
	s, err := ort.NewSession(path, ort.Options{Threads: threads})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a := make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%17) - 8
	}
	in := map[string]ort.Tensor{"A": {Shape: []int64{n, n}, F32: a}}
	best := time.Duration(1 << 62)
	for i := 0; i < 4; i++ {
		t0 := time.Now()
		if _, err := s.Run(in, []string{"Y"}); err != nil {
			b.Fatal(err)
		}
		best = min(best, time.Since(t0))
	}
	return 2 * n * n * n / best.Seconds() / 1e9
}

// BenchmarkIndexSpeed is issue 11's figure: pages/s of full-size random-weight colsmol-256m for a 13-tile page
// with the fp32 and the int8 graphs, and for pages of 9 and 5 tiles (the tile budgets --max-tiles 9 and 5
// give an A4 page 5 tiles, a 2:1 page 9), next to ONNX Runtime's fp32 and int8 MatMul peaks measured in the
// same run. Run with -benchtime 1x: a 13-tile fp32 page takes about 10-17 s on 2 cores.
func BenchmarkIndexSpeed(b *testing.B) {
	initORT(b)
	models := map[string]string{"fp32": benchModel(b, "fp32"), "int8": benchModel(b, "int8")}
	threads := 2
	peaks := map[string]float64{}
	for _, prec := range []string{"fp32", "int8"} {
		b.Run("matmul-2048/"+prec, func(b *testing.B) {
			peaks[prec] = matmulPeak(b, prec, threads)
			b.ReportMetric(peaks[prec], "GOP/s")
		})
	}
	a4 := benchPage(1240, 1754) // A4 at 150 dpi: 13 tiles at the model's 2048-px size
	wide := benchPage(1600, 800)
	cases := []struct {
		name  string
		prec  string
		img   *vlm.RGB
		edge  int // longest edge the page is resized to
		tiles int // tiles that gives, the global view included
	}{
		{"tiles=13/fp32", "fp32", a4, 2048, 13},
		{"tiles=13/int8", "int8", a4, 2048, 13},
		{"tiles=9/fp32", "fp32", wide, 2048, 9},
		{"tiles=9/int8", "int8", wide, 2048, 9},
		{"tiles=5/fp32", "fp32", a4, 1024, 5},
		{"tiles=5/int8", "int8", a4, 1024, 5},
	}
	rates := map[string]float64{}
	embedders := map[string]*Embedder{}
	for prec, dir := range models {
		e, err := Open(dir, Options{Threads: threads})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		embedders[prec] = e
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e := embedders[c.prec]
			if got := e.Processor().Image.Size.LongestEdge; c.edge > got {
				b.Fatalf("model longest edge %d < %d", got, c.edge)
			}
			t0 := time.Now()
			var pages []Page
			var err error
			for i := 0; i < b.N; i++ {
				if pages, err = e.EmbedPagesAt(context.Background(), []*vlm.RGB{c.img}, c.edge); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(t0)
			if n := pages[0].Tiles.Rows*pages[0].Tiles.Cols + 1; n != c.tiles {
				b.Fatalf("page gave %d tiles, want %d", n, c.tiles)
			}
			rates[c.name] = float64(b.N) / elapsed.Seconds()
			b.ReportMetric(rates[c.name], "pages/s")
			b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/page")
		})
	}
	if r32, r8 := rates["tiles=13/fp32"], rates["tiles=13/int8"]; r32 > 0 && r8 > 0 {
		b.Logf("13-tile page: fp32 %.3f pages/s, int8 %.3f pages/s (%.2f×); MatMul 2048³ fp32 %.0f GFLOP/s, int8 %.0f GOP/s (%.2f×)",
			r32, r8, r8/r32, peaks["fp32"], peaks["int8"], peaks["int8"]/max(peaks["fp32"], 1e-9))
	}
}
