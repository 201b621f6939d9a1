package embed

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/colsmol/colsmol/internal/modelbuild"
	"github.com/colsmol/colsmol/internal/vlm"
)

// benchModel returns the full-size random-weight colsmol-256m graphs of a precision ("fp32" or "int8"):
// $COLSMOL_BENCH_MODEL (or $COLSMOL_BENCH_MODEL_INT8), else build/models/colsmol-256m-random[-int8], converted
// on first use (a few minutes, ~1 GB, not committed).
func benchModel(b *testing.B, precision string) string {
	env, name := "COLSMOL_BENCH_MODEL", "colsmol-256m-random"
	if precision != "fp32" {
		env, name = env+"_"+strings.ToUpper(precision), name+"-"+precision
	}
	if dir := os.Getenv(env); dir != "" {
		return dir
	}
	dir := filepath.Join("..", "build", "models", name)
	if _, err := os.Stat(filepath.Join(dir, "onnx", "text_embeddings.onnx")); err == nil {
		return dir
	}
	b.Logf("building %s (colsmol model convert --random --preset colsmol-256m --precision %s)", dir, precision)
	err := modelbuild.Convert(context.Background(), modelbuild.ConvertOptions{
		Random: true, Preset: "colsmol-256m", Seed: 1, Precision: precision, Out: dir, Tokenizer: filepath.Join("..", "testdata", "tokenizer"),
	})
	if err != nil {
		b.Fatalf("build the benchmark model: %v", err)
	}
	return dir
}

// singleTileModel makes a sibling of dir whose preprocessor resizes pages to one 512-px tile
// (size.longest_edge 512), sharing dir's graphs.
func singleTileModel(b *testing.B, dir string) string {
	out := b.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		abs, _ := filepath.Abs(filepath.Join(dir, e.Name()))
		if e.Name() == "preprocessor_config.json" {
			var cfg map[string]any
			raw, err := os.ReadFile(abs)
			if err != nil {
				b.Fatal(err)
			}
			if err := json.Unmarshal(raw, &cfg); err != nil {
				b.Fatal(err)
			}
			cfg["size"] = map[string]any{"longest_edge": 512}
			raw, _ = json.Marshal(cfg)
			if err := os.WriteFile(filepath.Join(out, e.Name()), raw, 0o644); err != nil {
				b.Fatal(err)
			}
			continue
		}
		if err := os.Symlink(abs, filepath.Join(out, e.Name())); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// warmUp runs each graph once (one tile through the vision graph, a short query through the others), so
// that the timed run does not pay ONNX Runtime's first-run allocations.
func warmUp(b *testing.B, e *Embedder) {
	const t = 512
	tile := &vlm.Inputs{PixelValues: make([]float32, 3*t*t), PixelMask: make([]bool, t*t), TileSize: t}
	for i := range tile.PixelMask {
		tile.PixelMask[i] = true
	}
	if _, _, err := e.visionFeatures(context.Background(), tile); err != nil {
		b.Fatal(err)
	}
	if _, err := e.EmbedQuery(context.Background(), "warm up"); err != nil {
		b.Fatal(err)
	}
}

// benchPage draws a w x h page with some structure (content does not change the cost).
func benchPage(w, h int) *vlm.RGB {
	img := vlm.NewRGB(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := 3 * (y*w + x)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2] = uint8(x*7+y), uint8(y*3), uint8((x^y)&0xff)
		}
	}
	return img
}

// rssMB reads a memory figure (VmRSS, VmHWM) of this process in MB.
func rssMB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM to the current RSS (Linux: write 5 to clear_refs).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// cpuSample is the machine's busy CPU time and this process's CPU time at one moment.
type cpuSample struct{ busy, own time.Duration }

// sampleCPU reads /proc/stat (all cores' non-idle time) and this process's user+system time.
func sampleCPU() cpuSample {
	var s cpuSample
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		fields := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
		for i, f := range fields[1:] {
			v, _ := strconv.ParseInt(f, 10, 64)
			if i != 3 && i != 4 { // idle, iowait
				s.busy += time.Duration(v) * 10 * time.Millisecond // USER_HZ = 100
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.own = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return s
}

// foreignCores returns how many cores other processes kept busy on average between two samples: a
// measure of how disturbed a timing is (the machine is shared).
func foreignCores(a, b cpuSample, elapsed time.Duration) float64 {
	return max(0, float64((b.busy-a.busy)-(b.own-a.own))/float64(elapsed))
}

// report records pages/s (or latency), the share outside ONNX Runtime and the vision share.
func report(b *testing.B, before, after Stats, n int, elapsed time.Duration, unit string) {
	d := Stats{
		Total: after.Total - before.Total, Preprocess: after.Preprocess - before.Preprocess,
		Vision: after.Vision - before.Vision, Tokens: after.Tokens - before.Tokens, Text: after.Text - before.Text,
	}
	per := elapsed.Seconds() / float64(n)
	if unit == "pages" {
		b.ReportMetric(1/per, "pages/s")
		b.ReportMetric(per, "s/page")
	} else {
		b.ReportMetric(per*1000, "ms/query")
	}
	b.ReportMetric(100*d.OutsideShare(), "outside_%")
	if d.Total > 0 {
		b.ReportMetric(100*float64(d.Vision)/float64(d.Total), "vision_%")
		b.ReportMetric(100*float64(d.Preprocess)/float64(d.Total), "preprocess_%")
	}
}

// BenchmarkEmbed measures page throughput for 1-, 5-, 13- and 17-tile pages, the vision graph with all
// 13 tiles in one call, and the latency of a 20-word query, on full-size random-weight colsmol-256m.
// Run with -benchtime 1x: one 13-tile page takes about 17 s on 2 cores.
func BenchmarkEmbed(b *testing.B) {
	initORT(b)
	dir := benchModel(b, "fp32")
	pageCase := func(name, model string, o Options, img *vlm.RGB, wantTiles int) {
		b.Run(name, func(b *testing.B) {
			e, err := Open(model, o)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			ctx := context.Background()
			warmUp(b, e)
			resetPeakRSS()
			base := rssMB("VmRSS")
			before, cpu0 := e.Stats(), sampleCPU()
			b.ResetTimer()
			t0 := time.Now()
			tiles := 0
			for i := 0; i < b.N; i++ {
				pages, err := e.EmbedPages(ctx, []*vlm.RGB{img})
				if err != nil {
					b.Fatal(err)
				}
				tiles += pages[0].Tiles.N
			}
			elapsed := time.Since(t0)
			b.StopTimer()
			if tiles != wantTiles*b.N {
				b.Fatalf("the page gave %d tiles, want %d", tiles/b.N, wantTiles)
			}
			after := e.Stats()
			report(b, before, after, b.N, elapsed, "pages")
			b.ReportMetric((after.Vision-before.Vision).Seconds()/float64(tiles), "vision_s/tile")
			b.ReportMetric((after.Text-before.Text).Seconds()/float64(b.N), "text_s/page")
			b.ReportMetric(foreignCores(cpu0, sampleCPU(), elapsed), "foreign_cores")
			b.ReportMetric(rssMB("VmHWM")-base, "peak_extra_MB")
			b.ReportMetric(base, "model_RSS_MB")
		})
	}
	a4 := benchPage(1240, 1754) // A4 at 150 dpi: resized to 1448×2048, a 3×4 grid and the global view
	pageCase("page/tiles=1", singleTileModel(b, dir), Options{}, a4, 1)
	pageCase("page/tiles=5", dir, Options{}, benchPage(2048, 400), 5)
	pageCase("page/tiles=13", dir, Options{}, a4, 13)
	pageCase("page/tiles=13/tiles-per-call=13", dir, Options{TilesPerCall: 13}, a4, 13)
	pageCase("page/tiles=17", dir, Options{}, benchPage(1000, 1000), 17)

	b.Run("query/words=20", func(b *testing.B) {
		e, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		q := "what were the quarterly revenues of the northern sales region in the third quarter of the fiscal year compared with"
		if n := len(strings.Fields(q)); n != 20 {
			b.Fatalf("query has %d words", n)
		}
		ctx := context.Background()
		warmUp(b, e)
		if _, err := e.EmbedQuery(ctx, q); err != nil {
			b.Fatal(err)
		}
		before, cpu0 := e.Stats(), sampleCPU()
		b.ResetTimer()
		t0 := time.Now()
		n := max(b.N, 5)
		for i := 0; i < n; i++ {
			if _, err := e.EmbedQuery(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		elapsed := time.Since(t0)
		b.StopTimer()
		report(b, before, e.Stats(), n, elapsed, "queries")
		b.ReportMetric(foreignCores(cpu0, sampleCPU(), elapsed), "foreign_cores")
		in, _ := e.Processor().Query(q)
		b.ReportMetric(float64(len(in.InputIDs)), "tokens")
	})
	fmt.Fprintln(os.Stderr, "model:", dir)
}
