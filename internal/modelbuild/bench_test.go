package modelbuild

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	onnx "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/colsmol/colsmol/internal/modelbuild/onnxpb"
	"github.com/colsmol/colsmol/internal/ort"
)

// visionFLOPs counts the multiply-adds (×2) of the vision encoder and connector for one tile.
func visionFLOPs(c *Config) float64 {
	v := c.Vision
	n := float64(c.patchGrid() * c.patchGrid())
	d, i := float64(v.Hidden), float64(v.Intermediate)
	patchIn := float64(v.Channels * v.PatchSize * v.PatchSize)
	f := 2 * n * patchIn * d
	perLayer := 2*n*d*3*d + 2*2*n*n*d + 2*n*d*d + 2*2*n*d*i
	f += float64(v.Layers) * perLayer
	sf := float64(c.ScaleFactor)
	f += 2 * float64(c.tokensPerTile()) * d * sf * sf * float64(c.Text.Hidden)
	return f
}

// textFLOPs counts the multiply-adds (×2) of the text graph for L tokens (full L×L attention, as computed).
func textFLOPs(c *Config, L int) float64 {
	t := c.Text
	l, d, it := float64(L), float64(t.Hidden), float64(t.Intermediate)
	hq, hkv := float64(t.Heads*t.HeadDim), float64(t.KVHeads*t.HeadDim)
	perLayer := 2*l*d*(hq+2*hkv) + 2*2*l*l*hq + 2*l*hq*d + 3*2*l*d*it
	f := float64(t.Layers) * perLayer
	if c.Retriever {
		f += 2 * l * d * float64(c.ProjDim)
	} else {
		f += 2 * l * d * float64(t.Vocab)
	}
	return f
}

// timeRuns runs fn once to warm up, then n times, and returns the median duration.
func timeRuns(n int, fn func()) time.Duration {
	fn()
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		fn()
		ds[i] = time.Since(start)
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[n/2]
}

// matmulGraph writes a one-node ONNX graph Y = A·B with A, B [n,n] inputs.
func matmulGraph(t testing.TB, path string, n int) {
	g := newGraph("matmul")
	a := g.input("A", tFloat, n, n)
	b := g.input("B", tFloat, n, n)
	g.output("Y", g.matmul(a, b), tFloat, n, n)
	if err := g.save(path); err != nil {
		t.Fatal(err)
	}
}

// fusedOps loads a graph with ONNX Runtime's full optimisation, writes the optimised model and counts its
// node types: the fused kernels show which patterns ONNX Runtime recognised.
func fusedOps(t testing.TB, path string) string {
	so, err := onnx.NewSessionOptions()
	if err != nil {
		return err.Error()
	}
	defer so.Destroy()
	so.SetGraphOptimizationLevel(onnx.GraphOptimizationLevelEnableAll)
	opt := path + ".optimized.onnx"
	so.SetOptimizedModelFilePath(opt)
	s, err := onnx.NewDynamicAdvancedSession(path, nil, nil, so)
	if err != nil {
		return err.Error()
	}
	s.Destroy()
	defer os.Remove(opt)
	defer os.Remove(opt + ".data")
	b, err := os.ReadFile(opt)
	if err != nil {
		return err.Error()
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return err.Error()
	}
	counts := map[string]int{}
	for _, n := range m.GetGraph().GetNode() {
		counts[n.GetOpType()]++
	}
	var parts []string
	for _, op := range []string{"FastGelu", "Gelu", "LayerNormalization", "SimplifiedLayerNormalization", "SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "FusedMatMul", "MatMul", "QuickGelu", "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "MatMulInteger", "MatMulNBits", "MultiHeadAttention", "Softmax"} {
		if counts[op] > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", op, counts[op]))
		}
	}
	return strings.Join(parts, " ")
}

// BenchmarkBuilderFullSize builds full-size random-weight colsmol-256m (fp32, int8 and q4) into a temporary folder and reports the time and GFLOP/s of the vision encoder on one 512-px
// tile and of text_embeddings on 884 tokens (a 13-tile page), next to ONNX Runtime's rate on a plain 2048³
// MatMul measured in the same run. Threads: one per core.
func BenchmarkBuilderFullSize(b *testing.B) {
	initORT(b)
	cfg, _ := presetConfig("colsmol-256m")
	dir := b.TempDir()
	opts := ort.Options{}
	var ref, refFeat []float32
	var featCos float64
	for i := 0; i < b.N; i++ {
		mm := filepath.Join(dir, "matmul.onnx")
		matmulGraph(b, mm, 2048)
		r := rand.New(rand.NewPCG(1, 2))
		A := make([]float32, 2048*2048)
		for k := range A {
			A[k] = r.Float32() - 0.5
		}
		in := map[string]ort.Tensor{"A": ort.F32(A, 2048, 2048), "B": ort.F32(A, 2048, 2048)}
		ms, err := ort.NewSession(mm, opts)
		if err != nil {
			b.Fatal(err)
		}
		dMM := timeRuns(5, func() { run(b, ms, in, "Y") })
		ms.Close()
		mmRate := 2 * 2048.0 * 2048 * 2048 / dMM.Seconds() / 1e9
		b.ReportMetric(mmRate, "matmul-GFLOP/s")

		for _, prec := range []string{"fp32", "int8", "q4"} {
			out := filepath.Join(dir, "colsmol-256m-"+prec)
			accuracy := ""
			start := time.Now()
			if err := Convert(context.Background(), ConvertOptions{Random: true, Preset: "colsmol-256m", Seed: 1, Out: out, Precision: prec, Tokenizer: "../../testdata/tokenizer"}); err != nil {
				b.Fatal(err)
			}
			built := time.Since(start)

			visPath := filepath.Join(out, "onnx", "vision_encoder.onnx")
			vs, err := ort.NewSession(visPath, opts)
			if err != nil {
				b.Fatal(err)
			}
			tile := syntheticTile(512, 1, 3)
			mask := make([]bool, 512*512)
			for k := range mask {
				mask[k] = true
			}
			vin := map[string]ort.Tensor{"pixel_values": ort.F32(tile, 1, 1, 3, 512, 512), "pixel_attention_mask": ort.Bool(mask, 1, 1, 512, 512)}
			var feat ort.Tensor
			dVis := timeRuns(2, func() { feat = run(b, vs, vin, "image_features")["image_features"] })
			vs.Close()
			if prec == "fp32" {
				refFeat = feat.F32
			} else {
				featCos = cosine(refFeat, feat.F32)
			}

			const L = 884
			txtPath := filepath.Join(out, "onnx", "text_embeddings.onnx")
			ts, err := ort.NewSession(txtPath, opts)
			if err != nil {
				b.Fatal(err)
			}
			// 884 positions: random token-like embeddings with the tile's 64 image features at 10..73.
			D := cfg.Text.Hidden
			er := rand.New(rand.NewPCG(5, 6))
			emb := make([]float32, L*D)
			for k := range emb {
				emb[k] = float32(er.NormFloat64() * 0.05)
			}
			copy(emb[10*D:(10+64)*D], feat.F32)
			pos := make([]int64, L)
			for k := range pos {
				pos[k] = int64(k)
			}
			tin := map[string]ort.Tensor{"inputs_embeds": ort.F32(emb, 1, L, int64(cfg.Text.Hidden)), "attention_mask": ort.I64(make1(L), 1, L), "position_ids": ort.I64(pos, 1, L)}
			var vecs ort.Tensor
			dTxt := timeRuns(2, func() { vecs = run(b, ts, tin, "embeddings")["embeddings"] })
			ts.Close()
			if prec == "fp32" {
				ref = vecs.F32
			} else {
				minCos, sum := 1.0, 0.0
				for k := 0; k < L; k++ {
					c := cosine(ref[k*128:(k+1)*128], vecs.F32[k*128:(k+1)*128])
					minCos = math.Min(minCos, c)
					sum += c
				}
				b.ReportMetric(sum/L, prec+"-cos-mean")
				b.ReportMetric(minCos, prec+"-cos-min")
				accuracy = fmt.Sprintf("; vs fp32: image_features cosine %.4f, per-vector cosine of the 884 embeddings mean %.4f, min %.4f", featCos, sum/L, minCos)
			}

			vRate := visionFLOPs(cfg) / dVis.Seconds() / 1e9
			tRate := textFLOPs(cfg, L) / dTxt.Seconds() / 1e9
			b.ReportMetric(dVis.Seconds(), prec+"-vision-s/tile")
			b.ReportMetric(vRate, prec+"-vision-GFLOP/s")
			b.ReportMetric(dTxt.Seconds(), prec+"-text884-s")
			b.ReportMetric(tRate, prec+"-text884-GFLOP/s")
			b.Logf("%s (built in %.1f s): vision %.2f s/tile (%.0f GFLOP, %.0f GFLOP/s = %.2f× MatMul); text 884 tokens %.2f s (%.0f GFLOP, %.0f GFLOP/s = %.2f× MatMul); MatMul 2048³ %.0f GFLOP/s%s",
				prec, built.Seconds(), dVis.Seconds(), visionFLOPs(cfg)/1e9, vRate, vRate/mmRate, dTxt.Seconds(), textFLOPs(cfg, L)/1e9, tRate, tRate/mmRate, mmRate, accuracy)
			b.Logf("%s ops after ONNX Runtime's optimisation: vision_encoder %s | text_embeddings %s", prec, fusedOps(b, visPath), fusedOps(b, txtPath))
			os.RemoveAll(out)
		}
	}
}

// BenchmarkTorchExportBaseline times the builder's fp32 graphs against a torch.onnx.export of the plain
// PyTorch reference at the same size (scripts/modelbuild/export_torch_baseline.py), alternating runs in one
// process. It runs only when COLSMOL_TORCH_BASELINE names the folder that script wrote.
func BenchmarkTorchExportBaseline(b *testing.B) {
	tdir := os.Getenv("COLSMOL_TORCH_BASELINE")
	if tdir == "" {
		b.Skip("set COLSMOL_TORCH_BASELINE to the output folder of scripts/modelbuild/export_torch_baseline.py")
	}
	initORT(b)
	cfg, _ := presetConfig("colsmol-256m")
	out := filepath.Join(b.TempDir(), "m")
	if err := Convert(context.Background(), ConvertOptions{Random: true, Preset: "colsmol-256m", Seed: 1, Out: out, Tokenizer: "../../testdata/tokenizer"}); err != nil {
		b.Fatal(err)
	}
	tile := syntheticTile(512, 1, 3)
	mask := make([]bool, 512*512)
	for k := range mask {
		mask[k] = true
	}
	const L = 884
	emb := make([]float32, L*cfg.Text.Hidden)
	for k := range emb {
		emb[k] = float32(k%29)*0.003 - 0.04
	}
	pos := make([]int64, L)
	for k := range pos {
		pos[k] = int64(k)
	}
	textIn := map[string]ort.Tensor{"inputs_embeds": ort.F32(emb, 1, L, int64(cfg.Text.Hidden)), "attention_mask": ort.I64(make1(L), 1, L), "position_ids": ort.I64(pos, 1, L)}
	type graphRun struct {
		name, path, out string
		in              map[string]ort.Tensor
		flops           float64
	}
	runs := []graphRun{
		{"builder vision", filepath.Join(out, "onnx", "vision_encoder.onnx"), "image_features", map[string]ort.Tensor{"pixel_values": ort.F32(tile, 1, 1, 3, 512, 512), "pixel_attention_mask": ort.Bool(mask, 1, 1, 512, 512)}, visionFLOPs(cfg)},
		{"torch vision", filepath.Join(tdir, "vision_encoder.onnx"), "image_features", map[string]ort.Tensor{"pixel_values": ort.F32(tile, 1, 3, 512, 512)}, visionFLOPs(cfg)},
		{"builder text884", filepath.Join(out, "onnx", "text_embeddings.onnx"), "embeddings", textIn, textFLOPs(cfg, L)},
		{"torch text884", filepath.Join(tdir, "text_embeddings.onnx"), "embeddings", textIn, textFLOPs(cfg, L)},
	}
	for i := 0; i < b.N; i++ {
		best := map[string]time.Duration{}
		for round := 0; round < 3; round++ {
			for _, r := range runs {
				s, err := ort.NewSession(r.path, ort.Options{})
				if err != nil {
					b.Fatal(err)
				}
				d := timeRuns(1, func() { run(b, s, r.in, r.out) })
				s.Close()
				if best[r.name] == 0 || d < best[r.name] {
					best[r.name] = d
				}
			}
		}
		for _, r := range runs {
			d := best[r.name]
			b.Logf("%-16s %.3f s  %.0f GFLOP/s (best of 3 rounds)", r.name, d.Seconds(), r.flops/d.Seconds()/1e9)
		}
		b.ReportMetric(best["torch vision"].Seconds()/best["builder vision"].Seconds(), "vision-speedup-vs-torch")
		b.ReportMetric(best["torch text884"].Seconds()/best["builder text884"].Seconds(), "text-speedup-vs-torch")
	}
}

// BenchmarkDecoderFullSize builds full-size random-weight smolvlm-256m-instruct (fp32, int8, q4) and reports
// the prefill time of 884 random prompt tokens and the greedy decode rate (tokens/s) over 32 single-token
// steps with the KV cache, and how many greedy tokens the quantized decoders share with fp32.
func BenchmarkDecoderFullSize(b *testing.B) {
	initORT(b)
	cfg, _ := presetConfig("smolvlm-256m-instruct")
	tc := cfg.Text
	dir := b.TempDir()
	var refTokens []int64
	for i := 0; i < b.N; i++ {
		for _, prec := range []string{"fp32", "int8", "q4"} {
			out := filepath.Join(dir, prec)
			if err := Convert(context.Background(), ConvertOptions{Random: true, Preset: "smolvlm-256m-instruct", Seed: 1, Out: out, Precision: prec, Tokenizer: "../../testdata/tokenizer"}); err != nil {
				b.Fatal(err)
			}
			s, err := ort.NewSession(filepath.Join(out, "onnx", "decoder_model_merged.onnx"), ort.Options{})
			if err != nil {
				b.Fatal(err)
			}
			es, err := ort.NewSession(filepath.Join(out, "onnx", "embed_tokens.onnx"), ort.Options{})
			if err != nil {
				b.Fatal(err)
			}
			embed := func(ids []int64) []float32 {
				return run(b, es, map[string]ort.Tensor{"input_ids": ort.I64(ids, 1, int64(len(ids)))}, "inputs_embeds")["inputs_embeds"].F32
			}
			const L, steps = 884, 32
			D := tc.Hidden
			r := rand.New(rand.NewPCG(3, 4))
			prompt := make([]int64, L)
			for k := range prompt {
				prompt[k] = int64(100 + r.IntN(40000))
			}
			emb := embed(prompt)
			past := map[string]ort.Tensor{}
			for l := 0; l < tc.Layers; l++ {
				past[pastName(l, "key")] = ort.F32([]float32{}, 1, int64(tc.KVHeads), 0, int64(tc.HeadDim))
				past[pastName(l, "value")] = ort.F32([]float32{}, 1, int64(tc.KVHeads), 0, int64(tc.HeadDim))
			}
			step := func(e []float32, from, n int) int64 {
				pos := make([]int64, n)
				for k := range pos {
					pos[k] = int64(from + k)
				}
				in := map[string]ort.Tensor{"inputs_embeds": ort.F32(e, 1, int64(n), int64(D)), "attention_mask": ort.I64(make1(from+n), 1, int64(from+n)), "position_ids": ort.I64(pos, 1, int64(n))}
				names := []string{"logits"}
				for l := 0; l < tc.Layers; l++ {
					for _, kv := range []string{"key", "value"} {
						in[pastName(l, kv)] = past[pastName(l, kv)]
						names = append(names, "present."+itoa(l)+"."+kv)
					}
				}
				res := run(b, s, in, names...)
				for l := 0; l < tc.Layers; l++ {
					for _, kv := range []string{"key", "value"} {
						past[pastName(l, kv)] = res["present."+itoa(l)+"."+kv]
					}
				}
				V := tc.Vocab
				last := res["logits"].F32[(n-1)*V : n*V]
				best := 0
				for k, v := range last {
					if v > last[best] {
						best = k
					}
				}
				return int64(best)
			}
			start := time.Now()
			tok := step(emb, 0, L)
			prefill := time.Since(start)
			tokens := []int64{tok}
			start = time.Now()
			for k := 0; k < steps; k++ {
				tok = step(embed([]int64{tok}), L+k, 1)
				tokens = append(tokens, tok)
			}
			rate := steps / time.Since(start).Seconds()
			s.Close()
			es.Close()
			agreement := ""
			if prec == "fp32" {
				refTokens = tokens
			} else {
				same := 0
				for same < len(tokens) && tokens[same] == refTokens[same] {
					same++
				}
				agreement = fmt.Sprintf("; greedy tokens identical to fp32 for the first %d of %d", same, len(tokens))
				b.ReportMetric(float64(same), prec+"-greedy-prefix-agreement")
			}
			b.ReportMetric(prefill.Seconds(), prec+"-prefill884-s")
			b.ReportMetric(rate, prec+"-decode-tokens/s")
			b.Logf("%s smolvlm-256m decoder: prefill 884 tokens %.2f s, decode %.1f tokens/s (cache of 884-916, embed_tokens included)%s", prec, prefill.Seconds(), rate, agreement)
			os.RemoveAll(out)
		}
	}
}

// BenchmarkInt8RankingFullSize reports how far int8 changes MaxSim rankings on full-size random-weight
// colsmol-256m: 8 one-tile pages, 6 random-token queries; top-1 agreement and top-5 overlap with fp32.
func BenchmarkInt8RankingFullSize(b *testing.B) {
	initORT(b)
	for i := 0; i < b.N; i++ {
		f := buildRandom(b, "colsmol-256m", 1, "fp32")
		q := buildRandom(b, "colsmol-256m", 1, "int8")
		top1, overlap, nq := rankingAgreement(b, f, q)
		b.ReportMetric(float64(top1)/float64(nq), "int8-top1-agreement")
		b.ReportMetric(float64(overlap)/float64(5*nq), "int8-top5-overlap")
		b.Logf("colsmol-256m int8 vs fp32 over 8 pages × %d queries: top-1 agreement %d/%d, top-5 overlap %d/%d", nq, top1, nq, overlap, 5*nq)
	}
}
