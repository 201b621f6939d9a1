// Package modelbuild writes colsmol model folders: it builds the ONNX graphs of an Idefics3 model
// (SmolVLM generators and ColSmolVLM retrievers) from Hugging Face safetensors weights, optionally merged with
// a PEFT LoRA adapter, or from seeded random weights, and copies or writes the configuration and tokenizer
// files next to them.
//
// The graphs follow the layout of the official SmolVLM ONNX export (vision_encoder, embed_tokens,
// decoder_model_merged) plus text_embeddings for retrievers; see docs/interfaces.md "Model folders".
// Graphs use ONNX opset 17 in the shapes ONNX Runtime fuses (LayerNormalization, the RMSNorm pattern it turns
// into SimplifiedLayerNormalization, the tanh-GELU pattern it turns into FastGelu, SiLU into QuickGelu,
// scaled attention MatMuls into FusedMatMul). int8 and q4 graphs use ONNX Runtime's DynamicQuantizeMatMul and
// MatMulNBits contrib operators.
//
// Correctness is checked against an independent PyTorch implementation (scripts/modelbuild/reference.py),
// whose inputs, checkpoints and outputs are committed under testdata/ref. The committed tiny test models of
// testdata/models are built by scripts/modelbuild/make-test-models.sh.
package modelbuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// ConvertOptions says what Convert builds.
type ConvertOptions struct {
	// Base is a Hugging Face snapshot folder (config.json, *.safetensors, processor and tokenizer files).
	Base string
	// Adapter is an optional PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors),
	// merged into the base weights; its processor and tokenizer files, if any, replace the base's.
	Adapter string
	// Out is the model folder to write.
	Out string
	// Random builds from seeded random weights of the architecture Preset instead of Base/Adapter.
	Random bool
	Preset string
	Seed   int64
	// Precision is "fp32" (default), "int8" (int8 weights per output channel, dynamically quantized
	// activations) or "q4" (4-bit weights in blocks of 32, int8 activations).
	Precision string
	// Tokenizer is the folder whose tokenizer files a random model gets (default testdata/tokenizer).
	Tokenizer string
	// WeightsOut, when set, also writes the float32 weights the graphs were built from (after the LoRA
	// merge), with Hugging Face names, as a safetensors file: for reference implementations and debugging.
	WeightsOut string
	// Log receives progress lines; nil means silent.
	Log func(format string, args ...any)
}

// Files a model folder takes over from its source folders when they exist.
var copiedFiles = []string{
	"config.json", "preprocessor_config.json", "processor_config.json", "tokenizer.json",
	"tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt",
	"generation_config.json", "chat_template.json",
}

// Convert writes a complete model folder to o.Out: configuration and tokenizer files and the ONNX graphs
// (onnx/vision_encoder.onnx, onnx/embed_tokens.onnx and onnx/text_embeddings.onnx for retrievers or
// onnx/decoder_model_merged.onnx for generators).
func Convert(ctx context.Context, o ConvertOptions) error {
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if o.Out == "" {
		return errors.New("no output folder given (--out DIR)")
	}
	q := &quantizer{}
	switch strings.ToLower(o.Precision) {
	case "", "fp32", "float32":
	case "int8":
		q.int8 = true
	case "q4", "int4":
		q.q4 = true
	default:
		return fmt.Errorf("precision %q is not supported; use fp32, int8 or q4", o.Precision)
	}

	var cfg *Config
	var weights map[string]*Tensor
	switch {
	case o.Random:
		if o.Base != "" || o.Adapter != "" {
			return errors.New("--random builds random weights; it cannot be combined with --base or --adapter")
		}
		var err error
		if cfg, err = presetConfig(o.Preset); err != nil {
			return err
		}
		logf("random %s weights, seed %d", o.Preset, o.Seed)
		weights = randomWeights(cfg, o.Seed)
	case o.Base != "":
		var err error
		if cfg, err = loadConfig(filepath.Join(o.Base, "config.json")); err != nil {
			return err
		}
		logf("reading weights from %s", o.Base)
		if weights, err = loadBaseWeights(o.Base); err != nil {
			return err
		}
		if o.Adapter != "" {
			n, err := mergeLoRA(weights, o.Adapter)
			if err != nil {
				return err
			}
			logf("merged LoRA adapter %s into %d modules", o.Adapter, n)
		}
		if _, ok := weights[nLinearW]; ok {
			cfg.Retriever = true
		}
		if _, ok := weights[nLMHead]; !ok && !cfg.Retriever {
			cfg.TieEmbed = true // SmolLM2-style checkpoints tie lm_head to the embeddings
		}
	default:
		return errors.New("nothing to convert: give --base DIR (a Hugging Face snapshot) or --random --preset NAME")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(o.Out, "onnx"), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", o.Out, err)
	}
	if o.WeightsOut != "" {
		if err := writeSafetensors(o.WeightsOut, weights); err != nil {
			return fmt.Errorf("write weights: %w", err)
		}
	}

	ws := &weightSet{m: weights}
	builders := []struct {
		file  string
		build func() *graph
	}{
		{"vision_encoder.onnx", func() *graph { return buildVision(cfg, ws, q) }},
		{"embed_tokens.onnx", func() *graph { return buildEmbedTokens(cfg, ws) }},
	}
	textFile := "decoder_model_merged.onnx"
	if cfg.Retriever {
		textFile = "text_embeddings.onnx"
	}
	builders = append(builders, struct {
		file  string
		build func() *graph
	}{textFile, func() *graph { return buildText(cfg, ws, q) }})
	for _, b := range builders {
		if err := ctx.Err(); err != nil {
			return err
		}
		g := b.build()
		if ws.err != nil {
			return fmt.Errorf("%s: %w", b.file, ws.err)
		}
		path := filepath.Join(o.Out, "onnx", b.file)
		if err := g.save(path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		logf("wrote %s (%.1f MB of weights)", path, float64(g.weightBytes())/1e6)
		g = nil
		debug.FreeOSMemory()
	}
	return writeFolderFiles(cfg, o)
}

// writeFolderFiles writes the configuration and tokenizer files of the model folder.
func writeFolderFiles(cfg *Config, o ConvertOptions) error {
	if !o.Random {
		for _, src := range []string{o.Base, o.Adapter} {
			if src == "" {
				continue
			}
			for _, f := range copiedFiles {
				if f == "config.json" && src == o.Adapter {
					continue // an adapter's config.json (if any) is not the model's
				}
				if err := copyIfExists(filepath.Join(src, f), filepath.Join(o.Out, f)); err != nil {
					return err
				}
			}
		}
		for _, f := range []string{"preprocessor_config.json", "processor_config.json", "tokenizer.json", "tokenizer_config.json"} {
			if _, err := os.Stat(filepath.Join(o.Out, f)); err != nil && o.Log != nil {
				src := o.Base
				if o.Adapter != "" {
					src += " (or " + o.Adapter + ")"
				}
				o.Log("warning: %s has no %s; copy it into %s before using the model", src, f, o.Out)
			}
		}
		return ensureChatTemplate(o.Out)
	}

	tokDir := o.Tokenizer
	if tokDir == "" {
		tokDir = filepath.Join("testdata", "tokenizer")
	}
	if _, err := os.Stat(filepath.Join(tokDir, "tokenizer.json")); err != nil {
		return fmt.Errorf("random models take their tokenizer from a folder; %s has no tokenizer.json (pass --tokenizer DIR)", tokDir)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt"} {
		if err := copyIfExists(filepath.Join(tokDir, f), filepath.Join(o.Out, f)); err != nil {
			return err
		}
	}
	procClass := "Idefics3Processor"
	if cfg.Retriever {
		procClass = "ColIdefics3Processor"
	}
	files := map[string]any{
		"config.json": cfg.hfConfigJSON(),
		"preprocessor_config.json": map[string]any{
			"do_convert_rgb": true, "do_image_splitting": true, "do_normalize": true, "do_pad": true,
			"do_rescale": true, "do_resize": true, "image_mean": []float64{0.5, 0.5, 0.5},
			"image_std": []float64{0.5, 0.5, 0.5}, "image_processor_type": "Idefics3ImageProcessor",
			"max_image_size": map[string]int{"longest_edge": cfg.Vision.ImageSize}, "processor_class": procClass,
			"resample": 1, "rescale_factor": 0.00392156862745098,
			"size": map[string]int{"longest_edge": 4 * cfg.Vision.ImageSize},
		},
		"processor_config.json": map[string]any{"image_seq_len": cfg.tokensPerTile(), "processor_class": procClass},
		"chat_template.json":    map[string]any{"chat_template": chatTemplate},
	}
	if !cfg.Retriever {
		files["generation_config.json"] = map[string]any{
			"_from_model_config": true, "bos_token_id": 1, "eos_token_id": 49279, "pad_token_id": 2,
		}
	}
	for name, v := range files {
		if err := writeJSON(filepath.Join(o.Out, name), v); err != nil {
			return err
		}
	}
	return ensureChatTemplate(o.Out)
}

// chatTemplate is SmolVLM's chat template (chat_template.json of SmolVLM-256M/500M-Instruct).
const chatTemplate = "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"

// ensureChatTemplate puts a chat_template into tokenizer_config.json when it has none (Hub snapshots keep it
// in chat_template.json; the model-folder contract wants it in tokenizer_config.json).
func ensureChatTemplate(dir string) error {
	path := filepath.Join(dir, "tokenizer_config.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := m["chat_template"]; ok {
		return nil
	}
	tmpl := chatTemplate
	if cb, err := os.ReadFile(filepath.Join(dir, "chat_template.json")); err == nil {
		var ct struct {
			ChatTemplate string `json:"chat_template"`
		}
		if json.Unmarshal(cb, &ct) == nil && ct.ChatTemplate != "" {
			tmpl = ct.ChatTemplate
		}
	}
	raw, _ := json.Marshal(tmpl)
	m["chat_template"] = raw
	return writeJSON(path, m)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

func copyIfExists(src, dst string) error {
	b, err := os.ReadFile(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	return writeFileAtomic(dst, b)
}
