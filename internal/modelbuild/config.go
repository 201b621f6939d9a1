package modelbuild

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// VisionConfig holds the SigLIP vision tower dimensions (Hugging Face vision_config).
type VisionConfig struct {
	Hidden       int     `json:"hidden_size"`
	Intermediate int     `json:"intermediate_size"`
	Layers       int     `json:"num_hidden_layers"`
	Heads        int     `json:"num_attention_heads"`
	ImageSize    int     `json:"image_size"`
	PatchSize    int     `json:"patch_size"`
	Channels     int     `json:"num_channels"`
	LayerNormEps float64 `json:"layer_norm_eps"`
	HiddenAct    string  `json:"hidden_act"`
}

// TextConfig holds the Llama text model dimensions (Hugging Face text_config).
type TextConfig struct {
	Hidden       int     `json:"hidden_size"`
	Intermediate int     `json:"intermediate_size"`
	Layers       int     `json:"num_hidden_layers"`
	Heads        int     `json:"num_attention_heads"`
	KVHeads      int     `json:"num_key_value_heads"`
	HeadDim      int     `json:"head_dim"`
	Vocab        int     `json:"vocab_size"`
	RMSNormEps   float64 `json:"rms_norm_eps"`
	RopeTheta    float64 `json:"rope_theta"`
	MaxPositions int     `json:"max_position_embeddings"`
	HiddenAct    string  `json:"hidden_act"`
	TieEmbed     bool    `json:"tie_word_embeddings"`
}

// Config is what the builder needs from an Idefics3 config.json.
type Config struct {
	Vision       VisionConfig
	Text         TextConfig
	ScaleFactor  int
	ImageTokenID int64
	// Retriever selects the ColIdefics3 layout (text_embeddings.onnx with the 128-d projection) instead of
	// the generator layout (decoder_model_merged.onnx with logits).
	Retriever bool
	// ProjDim is the ColIdefics3 projection width (128).
	ProjDim int
	// TieEmbed: the generator's lm_head is the token embedding table.
	TieEmbed bool
	// HalfTables stores the token embedding table and lm_head as float16 (tiny test models only, to keep
	// them small); everything is still computed in float32.
	HalfTables bool
	// StableInit selects the depth-scaled random initialisation (full-size presets); see weightSpecs.
	StableInit bool
	// Raw is the parsed config.json, kept to be written back unchanged.
	Raw map[string]any
}

// hfConfig mirrors the fields of an Idefics3 config.json that the builder reads.
type hfConfig struct {
	Architectures []string        `json:"architectures"`
	ModelType     string          `json:"model_type"`
	ScaleFactor   int             `json:"scale_factor"`
	ImageTokenID  int64           `json:"image_token_id"`
	TieEmbed      *bool           `json:"tie_word_embeddings"`
	Vision        json.RawMessage `json:"vision_config"`
	Text          json.RawMessage `json:"text_config"`
	EmbeddingDim  int             `json:"embedding_dim"`
}

// parseConfig reads an Idefics3 (or ColIdefics3) config.json. Missing values take the defaults of
// transformers' Idefics3VisionConfig and LlamaConfig as Idefics3Config builds them.
func parseConfig(b []byte) (*Config, error) {
	var h hfConfig
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if h.ModelType != "" && h.ModelType != "idefics3" && h.ModelType != "smolvlm" {
		return nil, fmt.Errorf("config.json: model_type %q is not idefics3; colsmol converts Idefics3 (SmolVLM, ColSmolVLM) checkpoints only", h.ModelType)
	}
	c := &Config{
		Vision:       VisionConfig{Hidden: 1152, Intermediate: 3072, Layers: 12, Heads: 16, ImageSize: 224, PatchSize: 32, Channels: 3, LayerNormEps: 1e-6, HiddenAct: "gelu_pytorch_tanh"},
		Text:         TextConfig{Hidden: 4096, Intermediate: 11008, Layers: 32, Heads: 32, Vocab: 32000, RMSNormEps: 1e-5, RopeTheta: 10000, MaxPositions: 2048, HiddenAct: "silu"},
		ScaleFactor:  2,
		ImageTokenID: 128257,
		ProjDim:      128,
	}
	if len(h.Vision) > 0 {
		if err := json.Unmarshal(h.Vision, &c.Vision); err != nil {
			return nil, fmt.Errorf("config.json vision_config: %w", err)
		}
	}
	if len(h.Text) > 0 {
		if err := json.Unmarshal(h.Text, &c.Text); err != nil {
			return nil, fmt.Errorf("config.json text_config: %w", err)
		}
	}
	if h.ScaleFactor > 0 {
		c.ScaleFactor = h.ScaleFactor
	}
	if h.ImageTokenID > 0 {
		c.ImageTokenID = h.ImageTokenID
	}
	if h.EmbeddingDim > 0 {
		c.ProjDim = h.EmbeddingDim
	}
	if c.Text.KVHeads == 0 {
		c.Text.KVHeads = c.Text.Heads
	}
	if c.Text.HeadDim == 0 && c.Text.Heads > 0 {
		c.Text.HeadDim = c.Text.Hidden / c.Text.Heads
	}
	c.TieEmbed = c.Text.TieEmbed
	if h.TieEmbed != nil {
		c.TieEmbed = c.TieEmbed || *h.TieEmbed
	}
	for _, a := range h.Architectures {
		if strings.HasPrefix(a, "Col") {
			c.Retriever = true
		}
	}
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	c.Raw = raw
	return c, c.validate()
}

func loadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := parseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func (c *Config) validate() error {
	v, t := c.Vision, c.Text
	switch {
	case v.Hidden <= 0 || v.Layers < 0 || v.Heads <= 0 || v.Hidden%v.Heads != 0:
		return fmt.Errorf("vision_config: hidden_size %d must be a positive multiple of num_attention_heads %d", v.Hidden, v.Heads)
	case v.PatchSize <= 0 || v.ImageSize%v.PatchSize != 0:
		return fmt.Errorf("vision_config: image_size %d is not a multiple of patch_size %d", v.ImageSize, v.PatchSize)
	case c.ScaleFactor <= 0 || (v.ImageSize/v.PatchSize)%c.ScaleFactor != 0:
		return fmt.Errorf("scale_factor %d does not divide the %d-patch grid", c.ScaleFactor, v.ImageSize/v.PatchSize)
	case t.Hidden <= 0 || t.Heads <= 0 || t.KVHeads <= 0 || t.Heads%t.KVHeads != 0:
		return fmt.Errorf("text_config: num_attention_heads %d must be a multiple of num_key_value_heads %d", t.Heads, t.KVHeads)
	case t.HeadDim <= 0 || t.HeadDim%2 != 0:
		return fmt.Errorf("text_config: head_dim %d must be even (rotary embedding)", t.HeadDim)
	case t.Vocab <= 0:
		return fmt.Errorf("text_config: vocab_size %d", t.Vocab)
	}
	if act := strings.ToLower(v.HiddenAct); act != "" && act != "gelu_pytorch_tanh" && act != "gelu_new" && act != "gelu_fast" {
		return fmt.Errorf("vision_config: hidden_act %q is not supported (only the tanh GELU of SigLIP)", v.HiddenAct)
	}
	if act := strings.ToLower(t.HiddenAct); act != "" && act != "silu" {
		return fmt.Errorf("text_config: hidden_act %q is not supported (only SiLU)", t.HiddenAct)
	}
	return nil
}

// patchGrid is the number of patches per tile side (32 for 512-px tiles and patch 16).
func (c *Config) patchGrid() int { return c.Vision.ImageSize / c.Vision.PatchSize }

// tokensPerTile is the number of image tokens per tile after pixel shuffle (64 for the real models).
func (c *Config) tokensPerTile() int {
	s := c.patchGrid() / c.ScaleFactor
	return s * s
}

var presets = map[string]Config{}

func init() {
	vision := VisionConfig{Hidden: 768, Intermediate: 3072, Layers: 12, Heads: 12, ImageSize: 512, PatchSize: 16, Channels: 3, LayerNormEps: 1e-6, HiddenAct: "gelu_pytorch_tanh"}
	text256 := TextConfig{Hidden: 576, Intermediate: 1536, Layers: 30, Heads: 9, KVHeads: 3, HeadDim: 64, Vocab: 49280, RMSNormEps: 1e-5, RopeTheta: 100000, MaxPositions: 8192, HiddenAct: "silu"}
	text500 := TextConfig{Hidden: 960, Intermediate: 2560, Layers: 32, Heads: 15, KVHeads: 5, HeadDim: 64, Vocab: 49280, RMSNormEps: 1e-5, RopeTheta: 100000, MaxPositions: 8192, HiddenAct: "silu"}
	tinyVision := VisionConfig{Hidden: 32, Intermediate: 64, Layers: 2, Heads: 2, ImageSize: 512, PatchSize: 16, Channels: 3, LayerNormEps: 1e-6, HiddenAct: "gelu_pytorch_tanh"}
	tinyText := TextConfig{Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 8, Vocab: 49280, RMSNormEps: 1e-5, RopeTheta: 100000, MaxPositions: 8192, HiddenAct: "silu"}
	base := Config{ScaleFactor: 4, ImageTokenID: 49190, ProjDim: 128}
	add := func(name string, v VisionConfig, t TextConfig, retriever, tiny bool) {
		c := base
		c.Vision, c.Text, c.Retriever, c.HalfTables, c.StableInit = v, t, retriever, tiny, !tiny
		presets[name] = c
	}
	add("colsmol-256m", vision, text256, true, false)
	add("colsmol-500m", vision, text500, true, false)
	add("smolvlm-256m-instruct", vision, text256, false, false)
	add("smolvlm-500m-instruct", vision, text500, false, false)
	add("tiny-colsmol", tinyVision, tinyText, true, true)
	add("tiny-smolvlm", tinyVision, tinyText, false, true)
}

// Presets lists the preset names accepted by ConvertOptions.Preset.
func Presets() []string {
	var out []string
	for n := range presets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func presetConfig(name string) (*Config, error) {
	c, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q; choose one of %s", name, strings.Join(Presets(), ", "))
	}
	return &c, nil
}

// hfConfigJSON renders c as a Hugging Face config.json (for models built from random weights).
func (c *Config) hfConfigJSON() map[string]any {
	arch, mt := "Idefics3ForConditionalGeneration", "idefics3"
	if c.Retriever {
		arch = "ColIdefics3"
	}
	v, t := c.Vision, c.Text
	m := map[string]any{
		"architectures":       []string{arch},
		"model_type":          mt,
		"image_token_id":      c.ImageTokenID,
		"scale_factor":        c.ScaleFactor,
		"pad_token_id":        128002,
		"tie_word_embeddings": c.TieEmbed,
		"torch_dtype":         "float32",
		"use_cache":           true,
		"vision_config": map[string]any{
			"model_type": "idefics3_vision", "hidden_size": v.Hidden, "intermediate_size": v.Intermediate,
			"num_hidden_layers": v.Layers, "num_attention_heads": v.Heads, "image_size": v.ImageSize,
			"patch_size": v.PatchSize, "num_channels": v.Channels, "layer_norm_eps": v.LayerNormEps,
			"hidden_act": v.HiddenAct, "max_image_size": map[string]int{"longest_edge": v.ImageSize},
		},
		"text_config": map[string]any{
			"model_type": "llama", "architectures": []string{"LlamaForCausalLM"}, "hidden_size": t.Hidden,
			"intermediate_size": t.Intermediate, "num_hidden_layers": t.Layers, "num_attention_heads": t.Heads,
			"num_key_value_heads": t.KVHeads, "head_dim": t.HeadDim, "vocab_size": t.Vocab,
			"rms_norm_eps": t.RMSNormEps, "rope_theta": t.RopeTheta, "max_position_embeddings": t.MaxPositions,
			"hidden_act": "silu", "attention_bias": false, "mlp_bias": false, "tie_word_embeddings": c.TieEmbed,
			"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2, "rope_scaling": nil,
		},
	}
	if c.Retriever {
		m["embedding_dim"] = c.ProjDim
	}
	return m
}
