package modelbuild

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/colsmol/colsmol/internal/ort"
)

// The goldens under testdata/ref were computed by scripts/modelbuild/reference.py, an independent PyTorch
// (float64) implementation, from the Hugging Face-named checkpoints next to them: a BF16 ColIdefics3 base
// with a PEFT LoRA adapter, and an F16 SmolVLM base with a tied lm_head. These tests convert the checkpoints
// with Convert and compare ONNX Runtime's outputs of every graph with them.

const refTol = 1e-4

func loadGolden(t *testing.T) map[string]*Tensor {
	t.Helper()
	g, err := readSafetensors("testdata/ref/golden.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// refTile reproduces tile_pixels of reference.py: an integer hash per pixel mapped to [-1, 1].
func refTile(tile, size int) []float32 {
	out := make([]float32, 3*size*size)
	for c := 0; c < 3; c++ {
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				h := uint32(x)*73856093 ^ uint32(y)*19349663 ^ uint32(c+1)*83492791 ^ uint32(tile+1)*2654435761
				h ^= h >> 13
				h *= 1274126177
				u8 := h >> 24
				out[(c*size+y)*size+x] = float32((float64(u8) - 127.5) / 127.5)
			}
		}
	}
	return out
}

func toI64(v []float32) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func compare(t *testing.T, what string, got ort.Tensor, want *Tensor) {
	t.Helper()
	if !slices.Equal(got.Shape, want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape, want.Shape)
		return
	}
	d := maxAbsDiff(got.F32, want.Data)
	if d > refTol {
		t.Errorf("%s: max abs diff %.3g from the PyTorch reference (tolerance %g)", what, d, refTol)
	} else {
		t.Logf("%s: max abs diff %.3g", what, d)
	}
}

func convertRef(t *testing.T, base, adapter string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "model")
	o := ConvertOptions{Base: filepath.Join("testdata/ref", base), Out: out}
	if adapter != "" {
		o.Adapter = filepath.Join("testdata/ref", adapter)
	}
	if err := Convert(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return out
}

func runVision(t *testing.T, dir string, tiles [][]float32, size int) ort.Tensor {
	n := len(tiles)
	var pix []float32
	mask := make([]bool, n*size*size)
	for i, tile := range tiles {
		pix = append(pix, tile...)
		allZero := true
		for _, v := range tile {
			if v != 0 {
				allZero = false
				break
			}
		}
		for j := 0; j < size*size && !allZero; j++ {
			mask[i*size*size+j] = true
		}
	}
	vis := openSession(t, filepath.Join(dir, "onnx", "vision_encoder.onnx"))
	return run(t, vis, map[string]ort.Tensor{
		"pixel_values":         ort.F32(pix, 1, int64(n), 3, int64(size), int64(size)),
		"pixel_attention_mask": ort.Bool(mask, 1, int64(n), int64(size), int64(size)),
	}, "image_features")["image_features"]
}

// TestRetrieverMatchesReference: BF16 safetensors + LoRA adapter → vision_encoder, embed_tokens and
// text_embeddings (batch of 2, the second left-padded).
func TestRetrieverMatchesReference(t *testing.T) {
	initORT(t)
	gold := loadGolden(t)
	dir := convertRef(t, "colsmol-base", "colsmol-lora")
	const S = 512
	// Two real tiles and one all-zero padding tile, which the graph must drop.
	feat := runVision(t, dir, [][]float32{refTile(0, S), refTile(1, S), make([]float32, 3*S*S)}, S)
	compare(t, "image_features", feat, gold["vision.image_features"])

	ids := gold["embed.input_ids"]
	emb := openSession(t, filepath.Join(dir, "onnx", "embed_tokens.onnx"))
	e := run(t, emb, map[string]ort.Tensor{"input_ids": ort.I64(toI64(ids.Data), ids.Shape...)}, "inputs_embeds")["inputs_embeds"]
	compare(t, "inputs_embeds", e, gold["embed.inputs_embeds"])

	in := gold["ret.inputs_embeds"]
	txt := openSession(t, filepath.Join(dir, "onnx", "text_embeddings.onnx"))
	out := run(t, txt, map[string]ort.Tensor{
		"inputs_embeds":  ort.F32(in.Data, in.Shape...),
		"attention_mask": ort.I64(toI64(gold["ret.attention_mask"].Data), gold["ret.attention_mask"].Shape...),
		"position_ids":   ort.I64(toI64(gold["ret.position_ids"].Data), gold["ret.position_ids"].Shape...),
	}, "embeddings")["embeddings"]
	compare(t, "embeddings", out, gold["ret.embeddings"])
}

// TestGeneratorMatchesReference: F16 safetensors with a tied lm_head → decoder_model_merged, once as a full
// prefill (logits and the whole KV cache) and once through the cache: a prefill of part of the sequence, then
// single-token steps and a final chunk, each compared with the rows of the full recompute.
func TestGeneratorMatchesReference(t *testing.T) {
	initORT(t)
	gold := loadGolden(t)
	dir := convertRef(t, "smolvlm-base", "")
	const S = 512
	feat := runVision(t, dir, [][]float32{refTile(0, S), refTile(1, S)}, S)
	compare(t, "image_features", feat, gold["gen.image_features"])

	cfg, err := loadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	tc := cfg.Text
	KV, hd, V, D := int64(tc.KVHeads), int64(tc.HeadDim), tc.Vocab, tc.Hidden
	embeds := gold["gen.inputs_embeds"].Data
	L := int(gold["gen.inputs_embeds"].Shape[1])
	logits := gold["gen.logits"].Data
	dec := openSession(t, filepath.Join(dir, "onnx", "decoder_model_merged.onnx"))

	past := map[string]ort.Tensor{}
	for i := 0; i < tc.Layers; i++ {
		past[pastName(i, "key")] = ort.F32([]float32{}, 1, KV, 0, hd)
		past[pastName(i, "value")] = ort.F32([]float32{}, 1, KV, 0, hd)
	}
	step := func(from, to int) map[string]ort.Tensor {
		n := to - from
		pos := make([]int64, n)
		for i := range pos {
			pos[i] = int64(from + i)
		}
		in := map[string]ort.Tensor{
			"inputs_embeds":  ort.F32(embeds[from*D:to*D], 1, int64(n), int64(D)),
			"attention_mask": ort.I64(make1(to), 1, int64(to)),
			"position_ids":   ort.I64(pos, 1, int64(n)),
		}
		names := []string{"logits"}
		for i := 0; i < tc.Layers; i++ {
			for _, kv := range []string{"key", "value"} {
				in[pastName(i, kv)] = past[pastName(i, kv)]
				names = append(names, "present."+itoa(i)+"."+kv)
			}
		}
		res := run(t, dec, in, names...)
		for i := 0; i < tc.Layers; i++ {
			for _, kv := range []string{"key", "value"} {
				past[pastName(i, kv)] = res["present."+itoa(i)+"."+kv]
			}
		}
		return res
	}
	rows := func(from, to int) *Tensor {
		return &Tensor{Shape: []int64{1, int64(to - from), int64(V)}, Data: logits[from*V : to*V]}
	}

	// Full recompute: every row of the logits and the whole cache.
	res := step(0, L)
	compare(t, "logits (prefill of all tokens)", res["logits"], rows(0, L))
	for i := 0; i < tc.Layers; i++ {
		for _, kv := range []string{"key", "value"} {
			compare(t, "present."+itoa(i)+"."+kv, res["present."+itoa(i)+"."+kv], gold["gen.present."+itoa(i)+"."+kv])
		}
	}

	// Through the cache: prefill 100 tokens from an empty past, 3 single-token steps, then the rest at once.
	for i := 0; i < tc.Layers; i++ {
		past[pastName(i, "key")] = ort.F32([]float32{}, 1, KV, 0, hd)
		past[pastName(i, "value")] = ort.F32([]float32{}, 1, KV, 0, hd)
	}
	cuts := []int{0, 100, 101, 102, 103, L}
	for k := 0; k+1 < len(cuts); k++ {
		res := step(cuts[k], cuts[k+1])
		compare(t, "logits of tokens "+itoa(cuts[k])+".."+itoa(cuts[k+1]-1)+" through the cache", res["logits"], rows(cuts[k], cuts[k+1]))
	}
}

func itoa(i int) string { return fmtInt(i) }
