package generate

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/colsmol/colsmol/internal/vlm"
)

// The full-size benchmark models are not committed (about 1 GB and 0.4 GB). Build them with
//
//	colsmol model convert --random --preset smolvlm-256m-instruct --seed 1 --out build/bench-smolvlm
//	colsmol model convert --random --preset smolvlm-256m-instruct --seed 1 --precision int8 --out build/bench-smolvlm-int8
//
// (`make bench` does), or point COLSMOL_BENCH_SMOLVLM / COLSMOL_BENCH_SMOLVLM_INT8 at other folders.
func benchModelDir(b *testing.B, env, name string) string {
	dir := os.Getenv(env)
	if dir == "" {
		dir = filepath.Join(repoRoot(), "build", name)
	}
	if _, err := os.Stat(filepath.Join(dir, "onnx", "decoder_model_merged.onnx")); err != nil {
		b.Skipf("no full-size generator at %s (set %s, or build it: colsmol model convert --random --preset smolvlm-256m-instruct --out build/%s, adding --precision int8 for the int8 one)", dir, env, name)
	}
	return dir
}

// benchPage draws an A4 page at 150 dpi (1240×1754: 3×4 tiles and the global view, 13 tiles) with lines of
// "text" and a figure, so that the vision encoder sees a document-like page.
func benchPage() *vlm.RGB {
	img := image.NewRGBA(image.Rect(0, 0, 1240, 1754))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	ink := image.NewUniform(color.RGBA{20, 20, 30, 255})
	for y := 120; y < 1600; y += 34 {
		if y > 700 && y < 1000 {
			continue
		}
		w := 900 + (y*37)%180
		draw.Draw(img, image.Rect(120, y, 120+w, y+14), ink, image.Point{}, draw.Src)
	}
	draw.Draw(img, image.Rect(200, 720, 1000, 980), image.NewUniform(color.RGBA{60, 120, 200, 255}), image.Point{}, draw.Src)
	return vlm.ToRGB(img, vlm.AlphaWhite)
}

const benchQuestion = "The images above are pages [1], in that order. Answer the question from these pages only, and cite the pages you used as [1], [2], ... Question: What is the total amount on this page?"

// BenchmarkGenerateFullSize reports, on full-size random-weight smolvlm-256m-instruct with 2 ONNX Runtime
// threads, the time to first token of a one-page question (preprocessing, vision encoder over 13 tiles,
// prefill, first pick) and the decode rate after it, for the fp32 and int8 builds. Random weights never
// stop early, so every run generates the whole budget.
func BenchmarkGenerateFullSize(b *testing.B) {
	needORT(b)
	page := benchPage()
	const newTokens = 33
	for _, m := range []struct{ name, env, dir string }{
		{"fp32", "COLSMOL_BENCH_SMOLVLM", "bench-smolvlm"},
		{"int8", "COLSMOL_BENCH_SMOLVLM_INT8", "bench-smolvlm-int8"},
	} {
		b.Run(m.name, func(b *testing.B) {
			dir := benchModelDir(b, m.env, m.dir)
			g, err := Open(dir, Options{Threads: 2})
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			var ttft, prep, decode time.Duration
			var decoded, promptTokens int
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				in, err := g.Processor().Chat([]*vlm.RGB{page}, benchQuestion)
				if err != nil {
					b.Fatal(err)
				}
				prep += time.Since(start)
				var first time.Time
				res, err := g.Generate(context.Background(), in, Params{MaxNewTokens: newTokens}, func(int64, string) error {
					if first.IsZero() {
						first = time.Now()
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				end := time.Now()
				ttft += first.Sub(start)
				decode += end.Sub(first)
				decoded += len(res.Tokens) - 1
				promptTokens = res.PromptTokens
				if i == 0 {
					b.Logf("%s: %d prompt tokens, %d tiles; tokens %v", m.name, res.PromptTokens, in.NumTiles(), res.Tokens)
				}
			}
			// Where the time to first token goes: the vision encoder alone, once more.
			in, _ := g.Processor().Chat([]*vlm.RGB{page}, benchQuestion)
			emb, D, err := g.embedIDs(context.Background(), in.InputIDs)
			if err != nil {
				b.Fatal(err)
			}
			vstart := time.Now()
			if err := g.mergeImages(context.Background(), in, emb, D); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(time.Since(vstart).Seconds(), "vision-s")
			b.ReportMetric(ttft.Seconds()/float64(b.N), "ttft-s")
			b.ReportMetric(prep.Seconds()/float64(b.N), "preprocess-s")
			b.ReportMetric(float64(decoded)/decode.Seconds(), "tokens/s")
			b.ReportMetric(float64(promptTokens), "prompt-tokens")
		})
	}
	// How often int8 picks fp32's greedy token on this page (teacher forcing), for the README (issue 11).
	b.Run("int8-agreement", func(b *testing.B) {
		f, err := Open(benchModelDir(b, "COLSMOL_BENCH_SMOLVLM", "bench-smolvlm"), Options{Threads: 2})
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		q, err := Open(benchModelDir(b, "COLSMOL_BENCH_SMOLVLM_INT8", "bench-smolvlm-int8"), Options{Threads: 2})
		if err != nil {
			b.Fatal(err)
		}
		defer q.Close()
		in, err := f.Processor().Chat([]*vlm.RGB{page}, benchQuestion)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			steps, prefix := greedyAgreement(b, f, q, in, 16)
			b.ReportMetric(float64(steps)/16, "agree-frac")
			b.ReportMetric(float64(prefix), "same-prefix-tokens")
		}
	})
}
