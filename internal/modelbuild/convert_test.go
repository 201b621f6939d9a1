package modelbuild

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/colsmol/colsmol/internal/ort"
)

// TestTinyModelsRun builds both tiny presets and runs every graph with the shapes of interfaces.md.
func TestTinyModelsRun(t *testing.T) {
	initORT(t)
	const S = 512
	ret := buildRandom(t, "tiny-colsmol", 1, "")
	gen := buildRandom(t, "tiny-smolvlm", 1, "")
	for _, f := range []string{"config.json", "preprocessor_config.json", "processor_config.json", "tokenizer.json", "tokenizer_config.json"} {
		for _, d := range []string{ret, gen} {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				t.Errorf("%s: %v", d, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(gen, "generation_config.json")); err != nil {
		t.Error(err)
	}

	// Vision: 2 real tiles and one all-zero padding tile → 2 feature blocks.
	vis := openSession(t, filepath.Join(ret, "onnx", "vision_encoder.onnx"))
	pix := append(append(syntheticTile(S, 0, 1), syntheticTile(S, 1, 2)...), make([]float32, 3*S*S)...)
	mask := make([]bool, 3*S*S)
	for i := 0; i < 2*S*S; i++ {
		mask[i] = true
	}
	out := run(t, vis, map[string]ort.Tensor{
		"pixel_values":         ort.F32(pix, 1, 3, 3, S, S),
		"pixel_attention_mask": ort.Bool(mask, 1, 3, S, S),
	}, "image_features")["image_features"]
	if want := []int64{2, 64, 32}; !slices.Equal(out.Shape, want) {
		t.Fatalf("image_features shape %v, want %v", out.Shape, want)
	}
	if c := cosine(out.F32[:64*32], out.F32[64*32:]); c > 0.9 {
		t.Errorf("features of two different tiles have cosine %.3f; the image path is too weak", c)
	}

	// Retriever text graph: unit vectors where the mask is 1, zeros where it is 0.
	emb := openSession(t, filepath.Join(ret, "onnx", "embed_tokens.onnx"))
	ids := []int64{1, 11126, 42, 49190, 49190, 30, 49279, 2}
	e := run(t, emb, map[string]ort.Tensor{"input_ids": ort.I64(ids, 1, int64(len(ids)))}, "inputs_embeds")["inputs_embeds"]
	if want := []int64{1, 8, 32}; !slices.Equal(e.Shape, want) {
		t.Fatalf("inputs_embeds shape %v, want %v", e.Shape, want)
	}
	txt := openSession(t, filepath.Join(ret, "onnx", "text_embeddings.onnx"))
	am := []int64{1, 1, 1, 1, 1, 1, 1, 0}
	pos := []int64{0, 1, 2, 3, 4, 5, 6, 7}
	r := run(t, txt, map[string]ort.Tensor{"inputs_embeds": e, "attention_mask": ort.I64(am, 1, 8), "position_ids": ort.I64(pos, 1, 8)}, "embeddings")["embeddings"]
	if want := []int64{1, 8, 128}; !slices.Equal(r.Shape, want) {
		t.Fatalf("embeddings shape %v, want %v", r.Shape, want)
	}
	for i := 0; i < 8; i++ {
		var n float64
		for _, v := range r.F32[i*128 : (i+1)*128] {
			n += float64(v) * float64(v)
		}
		want := float64(am[i])
		if n < want-1e-4 || n > want+1e-4 {
			t.Errorf("position %d: squared norm %.6f, want %v", i, n, want)
		}
	}

	// Generator: prefill with an empty cache, then one decode step.
	dec := openSession(t, filepath.Join(gen, "onnx", "decoder_model_merged.onnx"))
	in := map[string]ort.Tensor{"inputs_embeds": e, "attention_mask": ort.I64(make1(8), 1, 8), "position_ids": ort.I64(pos, 1, 8)}
	for i := 0; i < 2; i++ {
		in[pastName(i, "key")] = ort.F32([]float32{}, 1, 2, 0, 8)
		in[pastName(i, "value")] = ort.F32([]float32{}, 1, 2, 0, 8)
	}
	res := run(t, dec, in, "logits", "present.0.key", "present.1.value")
	if want := []int64{1, 8, 49280}; !slices.Equal(res["logits"].Shape, want) {
		t.Fatalf("logits shape %v, want %v", res["logits"].Shape, want)
	}
	if want := []int64{1, 2, 8, 8}; !slices.Equal(res["present.0.key"].Shape, want) {
		t.Fatalf("present shape %v, want %v", res["present.0.key"].Shape, want)
	}
}

func make1(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func pastName(i int, kv string) string {
	return "past_key_values." + itoa(i) + "." + kv
}

// TestRandomIsDeterministic: the same seed gives byte-identical files (so rebuilding the committed test
// models does not churn git), a different seed different weights.
func TestRandomIsDeterministic(t *testing.T) {
	a := buildRandom(t, "tiny-smolvlm", 3, "")
	b := buildRandom(t, "tiny-smolvlm", 3, "")
	c := buildRandom(t, "tiny-smolvlm", 4, "")
	for _, f := range []string{"onnx/vision_encoder.onnx", "onnx/embed_tokens.onnx", "onnx/decoder_model_merged.onnx", "config.json"} {
		ba, _ := os.ReadFile(filepath.Join(a, f))
		bb, _ := os.ReadFile(filepath.Join(b, f))
		bc, _ := os.ReadFile(filepath.Join(c, f))
		if len(ba) == 0 || !bytes.Equal(ba, bb) {
			t.Errorf("%s differs between two builds with the same seed", f)
		}
		if f != "config.json" && bytes.Equal(ba, bc) {
			t.Errorf("%s is the same for seeds 3 and 4", f)
		}
	}
}

// imagePrompt is a SmolVLM chat prompt with one unsplit 64-token image (ids of the SmolVLM tokenizer).
func imagePrompt() (ids []int64, imgPos []int) {
	ids = []int64{1, 11126, 42, 49189, 49152}
	for i := 0; i < 64; i++ {
		imgPos = append(imgPos, len(ids))
		ids = append(ids, 49190)
	}
	ids = append(ids, 49189, 37964, 260, 2443, 30, 49279, 198, 9519, 9531, 42)
	return ids, imgPos
}

// promptEmbeds embeds ids and puts the features of one tile at the image positions.
func promptEmbeds(t testing.TB, dir string, tile []float32) (ort.Tensor, int) {
	const S = 512
	ids, imgPos := imagePrompt()
	vis := openSession(t, filepath.Join(dir, "onnx", "vision_encoder.onnx"))
	mask := make([]bool, S*S)
	for i := range mask {
		mask[i] = true
	}
	feat := run(t, vis, map[string]ort.Tensor{"pixel_values": ort.F32(tile, 1, 1, 3, S, S), "pixel_attention_mask": ort.Bool(mask, 1, 1, S, S)}, "image_features")["image_features"]
	emb := openSession(t, filepath.Join(dir, "onnx", "embed_tokens.onnx"))
	e := run(t, emb, map[string]ort.Tensor{"input_ids": ort.I64(ids, 1, int64(len(ids)))}, "inputs_embeds")["inputs_embeds"]
	d := int(e.Shape[2])
	for k, p := range imgPos {
		copy(e.F32[p*d:(p+1)*d], feat.F32[k*d:(k+1)*d])
	}
	return e, len(ids)
}

// greedy runs the decoder greedily for n tokens with the KV cache.
func greedy(t testing.TB, dir string, e ort.Tensor, n int) []int64 {
	cfg, err := loadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	tc := cfg.Text
	dec := openSession(t, filepath.Join(dir, "onnx", "decoder_model_merged.onnx"))
	emb := openSession(t, filepath.Join(dir, "onnx", "embed_tokens.onnx"))
	past := map[string]ort.Tensor{}
	for i := 0; i < tc.Layers; i++ {
		past[pastName(i, "key")] = ort.F32([]float32{}, 1, int64(tc.KVHeads), 0, int64(tc.HeadDim))
		past[pastName(i, "value")] = ort.F32([]float32{}, 1, int64(tc.KVHeads), 0, int64(tc.HeadDim))
	}
	var out []int64
	total := 0
	cur := e
	for step := 0; step < n; step++ {
		S := int(cur.Shape[1])
		pos := make([]int64, S)
		for i := range pos {
			pos[i] = int64(total + i)
		}
		total += S
		in := map[string]ort.Tensor{"inputs_embeds": cur, "attention_mask": ort.I64(make1(total), 1, int64(total)), "position_ids": ort.I64(pos, 1, int64(S))}
		names := []string{"logits"}
		for k, v := range past {
			in[k] = v
			names = append(names, "present"+k[len("past_key_values"):])
		}
		res := run(t, dec, in, names...)
		lg := res["logits"]
		V := int(lg.Shape[2])
		last := lg.F32[(S-1)*V : S*V]
		best := 0
		for i, v := range last {
			if v > last[best] {
				best = i
			}
		}
		out = append(out, int64(best))
		for k := range past {
			past[k] = res["present"+k[len("past_key_values"):]]
		}
		cur = run(t, emb, map[string]ort.Tensor{"input_ids": ort.I64([]int64{int64(best)}, 1, 1)}, "inputs_embeds")["inputs_embeds"]
	}
	return out
}

// TestTinyOutputsDependOnImage: the tiny generator answers differently for different images and the tiny
// retriever gives clearly different page embeddings.
func TestTinyOutputsDependOnImage(t *testing.T) {
	initORT(t)
	gen := buildRandom(t, "tiny-smolvlm", 1, "")
	tiles := [][]float32{syntheticTile(512, 0, 1), syntheticTile(512, 1, 2), syntheticTile(512, 2, 3)}
	var answers [][]int64
	for _, tile := range tiles {
		e, _ := promptEmbeds(t, gen, tile)
		answers = append(answers, greedy(t, gen, e, 6))
	}
	t.Logf("greedy answers: %v", answers)
	for i := 0; i < len(answers); i++ {
		for j := i + 1; j < len(answers); j++ {
			if slices.Equal(answers[i], answers[j]) {
				t.Errorf("images %d and %d give the same greedy answer %v", i, j, answers[i])
			}
		}
	}

	ret := buildRandom(t, "tiny-colsmol", 1, "")
	txt := openSession(t, filepath.Join(ret, "onnx", "text_embeddings.onnx"))
	var pages [][]float32
	for _, tile := range tiles {
		e, L := promptEmbeds(t, ret, tile)
		pos := make([]int64, L)
		for i := range pos {
			pos[i] = int64(i)
		}
		r := run(t, txt, map[string]ort.Tensor{"inputs_embeds": e, "attention_mask": ort.I64(make1(L), 1, int64(L)), "position_ids": ort.I64(pos, 1, int64(L))}, "embeddings")["embeddings"]
		pages = append(pages, r.F32)
	}
	for i := 0; i < len(pages); i++ {
		for j := i + 1; j < len(pages); j++ {
			c := cosine(pages[i], pages[j])
			t.Logf("page embeddings %d vs %d: cosine %.3f", i, j, c)
			if c > 0.9 {
				t.Errorf("page embeddings %d and %d have cosine %.3f; they should differ clearly", i, j, c)
			}
		}
	}
}

func fmtInt(i int) string { return strconv.Itoa(i) }

// TestCommittedTinyModelsUpToDate: the committed test models are exactly what
// scripts/modelbuild/make-test-models.sh builds with the current builder (rerun it after changing a graph).
func TestCommittedTinyModelsUpToDate(t *testing.T) {
	for _, m := range []string{"tiny-colsmol", "tiny-smolvlm"} {
		fresh := buildRandom(t, m, 1, "")
		committed := filepath.Join("../../testdata/models", m)
		files, _ := filepath.Glob(filepath.Join(fresh, "onnx", "*.onnx"))
		var files2 []string // the files the builder writes itself (tokenizer files are copies of testdata/tokenizer)
		for _, f := range []string{"config.json", "preprocessor_config.json", "processor_config.json", "generation_config.json", "chat_template.json"} {
			if _, err := os.Stat(filepath.Join(fresh, f)); err == nil {
				files2 = append(files2, filepath.Join(fresh, f))
			}
		}
		if len(files) != 3 {
			t.Fatalf("%s: built %d graphs", m, len(files))
		}
		for _, f := range append(files, files2...) {
			rel, _ := filepath.Rel(fresh, f)
			a, _ := os.ReadFile(f)
			b, err := os.ReadFile(filepath.Join(committed, rel))
			if err != nil {
				t.Errorf("%s/%s: %v (run scripts/modelbuild/make-test-models.sh)", m, rel, err)
				continue
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s/%s differs from a fresh build; run scripts/modelbuild/make-test-models.sh", m, rel)
			}
		}
	}
}
