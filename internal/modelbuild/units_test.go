package modelbuild

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHalfConversion(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{
		{0, 0x0000}, {1, 0x3c00}, {-2, 0xc000}, {0.1, 0x2e66}, {65504, 0x7bff}, {1e6, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00}, {6.1035156e-05, 0x0400}, {5.9604645e-08, 0x0001}, {1e-9, 0x0000},
		{1.0009765625, 0x3c01}, {1.00048828125, 0x3c00} /* tie → even */, {1.00146484375, 0x3c02}, /* tie → even */
	}
	for _, c := range cases {
		if got := floatToHalf(c.f); got != c.h {
			t.Errorf("floatToHalf(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
		if !math.IsInf(float64(c.f), 0) && c.f < 65505 && c.f > 1e-7 {
			back := halfToFloat(c.h)
			if rel := math.Abs(float64(back-c.f)) / float64(c.f); rel > 1e-3 {
				t.Errorf("halfToFloat(%#04x) = %g, want about %g", c.h, back, c.f)
			}
		}
	}
}

func TestCanonicalName(t *testing.T) {
	cases := map[string]string{
		"model.text_model.layers.0.self_attn.q_proj.weight":          "model.text_model.layers.0.self_attn.q_proj.weight",
		"text_model.norm.weight":                                     "model.text_model.norm.weight",
		"vision_model.post_layernorm.bias":                           "model.vision_model.post_layernorm.bias",
		"connector.modality_projection.proj.weight":                  "model.connector.modality_projection.proj.weight",
		"base_model.model.model.text_model.layers.3.mlp.up_proj":     "model.text_model.layers.3.mlp.up_proj",
		"model.model.vision_model.embeddings.patch_embedding.weight": "model.vision_model.embeddings.patch_embedding.weight",
		"linear.weight":  "linear.weight",
		"lm_head.weight": "lm_head.weight",
	}
	for in, want := range cases {
		if got := canonicalName(in); got != want {
			t.Errorf("canonicalName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	in := map[string]*Tensor{
		"b": {Shape: []int64{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		"a": {Shape: []int64{1}, Data: []float32{-0.5}},
	}
	if err := writeSafetensors(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := readSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	for n, w := range in {
		g := out[n]
		if g == nil || !slices.Equal(g.Shape, w.Shape) || maxAbsDiff(g.Data, w.Data) != 0 {
			t.Errorf("%s: got %+v, want %+v", n, g, w)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(bad, []byte{0xff, 0xff, 0, 0, 0, 0, 0, 0, '{'}, 0o644)
	if _, err := readSafetensors(bad); err == nil {
		t.Error("a header length past the end of the file was accepted")
	}
}

// TestConvertRejectsBadInput: wrong options and unusable folders fail with a message that says what to do.
func TestConvertRejectsBadInput(t *testing.T) {
	tmp := t.TempDir()
	noWeights := filepath.Join(tmp, "noweights")
	os.MkdirAll(noWeights, 0o755)
	cfg, _ := os.ReadFile("testdata/ref/colsmol-base/config.json")
	os.WriteFile(filepath.Join(noWeights, "config.json"), cfg, 0o644)
	wrongType := filepath.Join(tmp, "llama")
	os.MkdirAll(wrongType, 0o755)
	os.WriteFile(filepath.Join(wrongType, "config.json"), []byte(`{"model_type":"llama"}`), 0o644)
	cases := []struct {
		o    ConvertOptions
		want string
	}{
		{ConvertOptions{Random: true, Preset: "tiny-colsmol"}, "--out"},
		{ConvertOptions{Out: tmp}, "--base"},
		{ConvertOptions{Random: true, Preset: "huge", Out: tmp}, "unknown preset"},
		{ConvertOptions{Random: true, Preset: "tiny-colsmol", Base: noWeights, Out: tmp}, "cannot be combined"},
		{ConvertOptions{Random: true, Preset: "tiny-colsmol", Out: tmp, Precision: "fp8"}, "precision"},
		{ConvertOptions{Base: noWeights, Out: tmp}, "no *.safetensors"},
		{ConvertOptions{Base: wrongType, Out: tmp}, "not idefics3"},
		{ConvertOptions{Base: "testdata/ref/colsmol-base", Adapter: noWeights, Out: filepath.Join(tmp, "o")}, "adapter_config.json"},
		{ConvertOptions{Base: "testdata/ref/smolvlm-base", Out: filepath.Join(tmp, "o2"), Random: false, Adapter: "testdata/ref/colsmol-lora"}, ""},
	}
	for _, c := range cases {
		err := Convert(context.Background(), c.o)
		if c.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", c.o, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one mentioning %q", c.o, err, c.want)
		}
	}
}

// TestExternalData: a model saved with ONNX external data (as models over 2 GB are) loads and computes the
// same as one saved in a single file.
func TestExternalData(t *testing.T) {
	initORT(t)
	inline := buildRandom(t, "tiny-colsmol", 2, "")
	old := externalLimit
	externalLimit = 1000
	defer func() { externalLimit = old }()
	ext := buildRandom(t, "tiny-colsmol", 2, "")
	if _, err := os.Stat(filepath.Join(ext, "onnx", "vision_encoder.onnx_data")); err != nil {
		t.Fatalf("no external data file: %v", err)
	}
	a := runVision(t, inline, [][]float32{refTile(0, 512)}, 512)
	b := runVision(t, ext, [][]float32{refTile(0, 512)}, 512)
	if d := maxAbsDiff(a.F32, b.F32); d != 0 || len(a.F32) == 0 {
		t.Errorf("external-data model differs by %g", d)
	}
}
