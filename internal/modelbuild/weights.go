package modelbuild

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// weightKind says how the random initialiser fills a tensor.
type weightKind int

const (
	kindLinear   weightKind = iota // N(0, gain²/fan_in)
	kindBias                       // N(0, 0.1²)
	kindNormW                      // 1 + N(0, 0.1²)
	kindNormB                      // N(0, 0.1²)
	kindEmbed                      // N(0, 1)
	kindPosEmbed                   // N(0, 0.3²)
)

// weightSpec is one tensor the builder reads, with its Hugging Face name and shape.
type weightSpec struct {
	name  string
	shape []int64
	kind  weightKind
	gain  float64
}

func vName(i int, s string) string {
	return fmt.Sprintf("model.vision_model.encoder.layers.%d.%s", i, s)
}
func tName(i int, s string) string { return fmt.Sprintf("model.text_model.layers.%d.%s", i, s) }

const (
	nPatchW   = "model.vision_model.embeddings.patch_embedding.weight"
	nPatchB   = "model.vision_model.embeddings.patch_embedding.bias"
	nPos      = "model.vision_model.embeddings.position_embedding.weight"
	nPostLNW  = "model.vision_model.post_layernorm.weight"
	nPostLNB  = "model.vision_model.post_layernorm.bias"
	nConnW    = "model.connector.modality_projection.proj.weight"
	nEmbed    = "model.text_model.embed_tokens.weight"
	nNorm     = "model.text_model.norm.weight"
	nLMHead   = "lm_head.weight"
	nLinearW  = "linear.weight"
	nLinearB  = "linear.bias"
	imageGain = 2.0 // larger weights on the image path so that outputs of tiny random models depend on the image
)

// weightSpecs lists every tensor a model of config c needs, in a fixed order.
func weightSpecs(c *Config) []weightSpec {
	v, t := c.Vision, c.Text
	dv, iv := int64(v.Hidden), int64(v.Intermediate)
	p, ch := int64(v.PatchSize), int64(v.Channels)
	g := int64(c.patchGrid())
	sf := int64(c.ScaleFactor)
	dt, it := int64(t.Hidden), int64(t.Intermediate)
	hq, hkv := int64(t.Heads*t.HeadDim), int64(t.KVHeads*t.HeadDim)
	// Tiny models get sharp attention (q/k gain 2) so that their outputs depend visibly on the image. Deep
	// full-size random models would be chaotic that way (any perturbation, such as int8 rounding, would grow
	// through 30 layers), so they get a trained-network-like initialisation instead: q/k gain 1 and residual
	// output projections scaled by 1/√(2·layers), as GPT-2 initialises them.
	qk, resV, resT := 2.0, 1.0, 1.0
	if c.StableInit {
		qk = 1
		resV = 1 / math.Sqrt(2*float64(v.Layers))
		resT = 1 / math.Sqrt(2*float64(t.Layers))
	}
	s := []weightSpec{
		{nPatchW, []int64{dv, ch, p, p}, kindLinear, imageGain},
		{nPatchB, []int64{dv}, kindBias, 1},
		{nPos, []int64{g * g, dv}, kindPosEmbed, 1},
	}
	for i := 0; i < v.Layers; i++ {
		s = append(s,
			weightSpec{vName(i, "layer_norm1.weight"), []int64{dv}, kindNormW, 1},
			weightSpec{vName(i, "layer_norm1.bias"), []int64{dv}, kindNormB, 1},
		)
		for _, n := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
			gain := 1.0
			switch {
			case n == "q_proj" || n == "k_proj":
				gain = qk
			case n == "out_proj":
				gain = resV
			}
			s = append(s,
				weightSpec{vName(i, "self_attn."+n+".weight"), []int64{dv, dv}, kindLinear, gain},
				weightSpec{vName(i, "self_attn."+n+".bias"), []int64{dv}, kindBias, 1},
			)
		}
		s = append(s,
			weightSpec{vName(i, "layer_norm2.weight"), []int64{dv}, kindNormW, 1},
			weightSpec{vName(i, "layer_norm2.bias"), []int64{dv}, kindNormB, 1},
			weightSpec{vName(i, "mlp.fc1.weight"), []int64{iv, dv}, kindLinear, 1},
			weightSpec{vName(i, "mlp.fc1.bias"), []int64{iv}, kindBias, 1},
			weightSpec{vName(i, "mlp.fc2.weight"), []int64{dv, iv}, kindLinear, resV},
			weightSpec{vName(i, "mlp.fc2.bias"), []int64{dv}, kindBias, 1},
		)
	}
	s = append(s,
		weightSpec{nPostLNW, []int64{dv}, kindNormW, 1},
		weightSpec{nPostLNB, []int64{dv}, kindNormB, 1},
		weightSpec{nConnW, []int64{dt, dv * sf * sf}, kindLinear, imageGain},
		weightSpec{nEmbed, []int64{int64(t.Vocab), dt}, kindEmbed, 1},
	)
	for i := 0; i < t.Layers; i++ {
		s = append(s,
			weightSpec{tName(i, "input_layernorm.weight"), []int64{dt}, kindNormW, 1},
			weightSpec{tName(i, "self_attn.q_proj.weight"), []int64{hq, dt}, kindLinear, qk},
			weightSpec{tName(i, "self_attn.k_proj.weight"), []int64{hkv, dt}, kindLinear, qk},
			weightSpec{tName(i, "self_attn.v_proj.weight"), []int64{hkv, dt}, kindLinear, 1},
			weightSpec{tName(i, "self_attn.o_proj.weight"), []int64{dt, hq}, kindLinear, resT},
			weightSpec{tName(i, "post_attention_layernorm.weight"), []int64{dt}, kindNormW, 1},
			weightSpec{tName(i, "mlp.gate_proj.weight"), []int64{it, dt}, kindLinear, 1},
			weightSpec{tName(i, "mlp.up_proj.weight"), []int64{it, dt}, kindLinear, 1},
			weightSpec{tName(i, "mlp.down_proj.weight"), []int64{dt, it}, kindLinear, resT},
		)
	}
	s = append(s, weightSpec{nNorm, []int64{dt}, kindNormW, 1})
	if c.Retriever {
		s = append(s,
			weightSpec{nLinearW, []int64{int64(c.ProjDim), dt}, kindLinear, 1},
			weightSpec{nLinearB, []int64{int64(c.ProjDim)}, kindBias, 1},
		)
	} else if !c.TieEmbed {
		s = append(s, weightSpec{nLMHead, []int64{int64(t.Vocab), dt}, kindLinear, 1})
	}
	return s
}

// randomWeights fills every tensor of c from a seeded generator. Each tensor has its own stream, derived from
// the seed and the tensor's name, so the same seed always gives the same values.
func randomWeights(c *Config, seed int64) map[string]*Tensor {
	out := map[string]*Tensor{}
	for _, s := range weightSpecs(c) {
		h := fnv.New64a()
		h.Write([]byte(s.name))
		r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
		n := numel(s.shape)
		d := make([]float32, n)
		var std, mean float64
		switch s.kind {
		case kindLinear:
			fanIn := n / s.shape[0]
			std = s.gain / math.Sqrt(float64(fanIn))
		case kindBias, kindNormB:
			std = 0.1
		case kindNormW:
			mean, std = 1, 0.1
		case kindEmbed:
			std = 1
		case kindPosEmbed:
			std = 0.3
		}
		for i := range d {
			d[i] = float32(mean + std*r.NormFloat64())
		}
		out[s.name] = &Tensor{Shape: s.shape, Data: d}
	}
	if c.HalfTables {
		for _, n := range []string{nEmbed, nLMHead} {
			if t, ok := out[n]; ok {
				roundHalf(t.Data)
			}
		}
	}
	return out
}

// canonicalName maps the tensor names of the different Idefics3 checkpoint flavours to the names of
// transformers' Idefics3ForConditionalGeneration ("model.vision_model...", "model.text_model...", "lm_head").
func canonicalName(n string) string {
	n = strings.TrimPrefix(n, "base_model.model.")
	for _, p := range []string{"vision_model.", "connector.", "text_model."} {
		if strings.HasPrefix(n, p) {
			return "model." + n
		}
	}
	if strings.HasPrefix(n, "model.model.") {
		return strings.TrimPrefix(n, "model.")
	}
	return n
}

// loadBaseWeights reads every *.safetensors file of a Hugging Face snapshot folder (sharded or not).
func loadBaseWeights(dir string) (map[string]*Tensor, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := map[string]*Tensor{}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "adapter_") {
			continue
		}
		ts, err := readSafetensors(f)
		if err != nil {
			return nil, err
		}
		for n, t := range ts {
			out[canonicalName(n)] = t
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no *.safetensors weights; point --base at a Hugging Face snapshot folder (config.json + model.safetensors)", dir)
	}
	return out, nil
}

// adapterConfig is the part of a PEFT adapter_config.json that the merge needs.
type adapterConfig struct {
	PeftType     string             `json:"peft_type"`
	R            int                `json:"r"`
	Alpha        float64            `json:"lora_alpha"`
	UseRSLoRA    bool               `json:"use_rslora"`
	UseDoRA      bool               `json:"use_dora"`
	FanInFanOut  bool               `json:"fan_in_fan_out"`
	RankPattern  map[string]int     `json:"rank_pattern"`
	AlphaPattern map[string]float64 `json:"alpha_pattern"`
}

var loraKey = regexp.MustCompile(`^(.*)\.lora_([AB])(?:\.[A-Za-z0-9_]+)?\.weight$`)

// mergeLoRA folds a PEFT LoRA adapter into w: W += (alpha/r)·B·A for every adapted module (alpha/sqrt(r) with
// rsLoRA). Full tensors stored in the adapter (modules_to_save) replace the base ones.
func mergeLoRA(w map[string]*Tensor, dir string) (int, error) {
	cb, err := os.ReadFile(filepath.Join(dir, "adapter_config.json"))
	if err != nil {
		return 0, fmt.Errorf("adapter: %w", err)
	}
	var ac adapterConfig
	if err := json.Unmarshal(cb, &ac); err != nil {
		return 0, fmt.Errorf("adapter_config.json: %w", err)
	}
	if ac.PeftType != "" && ac.PeftType != "LORA" {
		return 0, fmt.Errorf("adapter_config.json: peft_type %s; only LORA adapters can be merged", ac.PeftType)
	}
	if ac.UseDoRA {
		return 0, fmt.Errorf("adapter_config.json: DoRA adapters are not supported")
	}
	ts, err := readSafetensors(filepath.Join(dir, "adapter_model.safetensors"))
	if err != nil {
		return 0, fmt.Errorf("adapter: %w", err)
	}
	type pair struct{ a, b *Tensor }
	pairs := map[string]*pair{}
	for n, t := range ts {
		if m := loraKey.FindStringSubmatch(n); m != nil {
			mod := canonicalName(m[1])
			p := pairs[mod]
			if p == nil {
				p = &pair{}
				pairs[mod] = p
			}
			if m[2] == "A" {
				p.a = t
			} else {
				p.b = t
			}
			continue
		}
		name := canonicalName(strings.Replace(n, ".modules_to_save.default", "", 1))
		if _, ok := w[name]; !ok {
			return 0, fmt.Errorf("adapter tensor %s (%s) matches no base weight", n, name)
		}
		w[name] = t
	}
	mods := make([]string, 0, len(pairs))
	for m := range pairs {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	for _, mod := range mods {
		p := pairs[mod]
		if p.a == nil || p.b == nil {
			return 0, fmt.Errorf("adapter: module %s lacks lora_A or lora_B", mod)
		}
		base, ok := w[mod+".weight"]
		if !ok {
			return 0, fmt.Errorf("adapter: module %s has no base weight %s.weight", mod, mod)
		}
		r, alpha := ac.R, ac.Alpha
		for pat, v := range ac.RankPattern {
			if mod == pat || strings.HasSuffix(mod, "."+pat) || regexpMatch(pat, mod) {
				r = v
			}
		}
		for pat, v := range ac.AlphaPattern {
			if mod == pat || strings.HasSuffix(mod, "."+pat) || regexpMatch(pat, mod) {
				alpha = v
			}
		}
		if r <= 0 {
			r = int(p.a.Shape[0])
		}
		scale := alpha / float64(r)
		if ac.UseRSLoRA {
			scale = alpha / math.Sqrt(float64(r))
		}
		if len(base.Shape) != 2 || len(p.a.Shape) != 2 || len(p.b.Shape) != 2 {
			return 0, fmt.Errorf("adapter: module %s: LoRA needs 2-D weights", mod)
		}
		out, in := base.Shape[0], base.Shape[1]
		a, b := p.a, p.b
		if ac.FanInFanOut {
			out, in = in, out
		}
		rank := a.Shape[0]
		if a.Shape[1] != in || b.Shape[0] != out || b.Shape[1] != rank {
			return 0, fmt.Errorf("adapter: module %s: lora_A %v, lora_B %v do not fit weight %v", mod, a.Shape, b.Shape, base.Shape)
		}
		d := make([]float32, len(base.Data))
		copy(d, base.Data)
		for o := int64(0); o < out; o++ {
			for k := int64(0); k < rank; k++ {
				bv := float32(scale) * b.Data[o*rank+k]
				if bv == 0 {
					continue
				}
				arow := a.Data[k*in : (k+1)*in]
				for i, av := range arow {
					if ac.FanInFanOut {
						d[int64(i)*out+o] += bv * av
					} else {
						d[o*in+int64(i)] += bv * av
					}
				}
			}
		}
		w[mod+".weight"] = &Tensor{Shape: base.Shape, Data: d}
	}
	return len(mods), nil
}

func regexpMatch(pat, s string) bool {
	re, err := regexp.Compile("^(?:" + pat + ")$")
	return err == nil && re.MatchString(s)
}

// weightSet hands weights to the graph builders and records the first missing or misshapen tensor.
type weightSet struct {
	m   map[string]*Tensor
	err error
}

// get returns the data of a tensor after checking its shape.
func (w *weightSet) get(name string, shape ...int64) []float32 {
	t, ok := w.m[name]
	if !ok {
		if w.err == nil {
			w.err = fmt.Errorf("weight %s is missing", name)
		}
		return make([]float32, numel(shape))
	}
	if !slices.Equal(t.Shape, shape) {
		if w.err == nil {
			w.err = fmt.Errorf("weight %s has shape %v, the config needs %v", name, t.Shape, shape)
		}
		return make([]float32, numel(shape))
	}
	return t.Data
}

// transposed returns the [cols, rows] transpose of a row-major [rows, cols] matrix.
func transposed(d []float32, rows, cols int64) []float32 {
	out := make([]float32, len(d))
	for r := int64(0); r < rows; r++ {
		row := d[r*cols : (r+1)*cols]
		for c, v := range row {
			out[int64(c)*rows+r] = v
		}
	}
	return out
}

// linearT returns the [in, out] transpose of an nn.Linear weight [out, in] (the right operand of MatMul).
func (w *weightSet) linearT(name string, out, in int64) []float32 {
	return transposed(w.get(name, out, in), out, in)
}

// concatCols joins [rows, c_i] matrices side by side.
func concatCols(rows int64, parts ...[]float32) []float32 {
	var width int64
	widths := make([]int64, len(parts))
	for i, p := range parts {
		widths[i] = int64(len(p)) / rows
		width += widths[i]
	}
	out := make([]float32, rows*width)
	for r := int64(0); r < rows; r++ {
		off := r * width
		for i, p := range parts {
			copy(out[off:off+widths[i]], p[r*widths[i]:(r+1)*widths[i]])
			off += widths[i]
		}
	}
	return out
}
