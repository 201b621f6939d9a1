// Package generate runs SmolVLM (Idefics3) generation over the split ONNX graphs of a model folder:
// the vision encoder once at prefill, the token-embedding graph, and the merged decoder with its KV cache.
//
// The loop follows what transformers.js does with the official SmolVLM export (models.md §7.3): image features
// replace the <image> positions in order, position ids count the attended positions from 0, the attention mask
// grows by one per step, and generation stops on <end_of_utterance> or after the token budget.
package generate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
)

// Options configure how the generator's graphs run.
type Options struct {
	Threads int    // ONNX Runtime intra-op threads per graph; 0 means the core count
	Device  string // "cpu" (default) or "cuda"
}

// Params control one generation.
type Params struct {
	MaxNewTokens int     // most tokens to generate; 0 means 256
	Temperature  float64 // 0 means greedy decoding
	TopP         float64 // nucleus sampling mass in (0,1]; 0 or 1 keeps every token
	Seed         int64   // seed of the sampler, for reproducible sampling
}

// Result is what a generation produced.
type Result struct {
	Tokens       []int64 // generated ids, the stop token included when one was generated
	Text         string  // decoded answer without special tokens
	PromptTokens int     // length of the prompt in tokens
	StopReason   string  // "eos" or "length"
}

// textConfig is the part of config.json that shapes the decoder's KV cache.
type textConfig struct {
	NumHiddenLayers   int `json:"num_hidden_layers"`
	NumAttentionHeads int `json:"num_attention_heads"`
	NumKeyValueHeads  int `json:"num_key_value_heads"`
	HiddenSize        int `json:"hidden_size"`
	HeadDim           int `json:"head_dim"`
	MaxPositions      int `json:"max_position_embeddings"`
	EOSTokenID        any `json:"eos_token_id"`
}

type modelConfig struct {
	ImageTokenID int64      `json:"image_token_id"`
	TextConfig   textConfig `json:"text_config"`
}

type generationConfig struct {
	EOSTokenID any `json:"eos_token_id"`
}

// Generator holds the three sessions of a SmolVLM model folder. It is safe for concurrent use.
type Generator struct {
	dir      string
	proc     *vlm.Processor
	vision   *ort.Session
	embed    *ort.Session
	decoder  *ort.Session
	layers   int
	kvHeads  int
	headDim  int
	maxPos   int
	imageTok int64
	eos      map[int64]bool
}

// Open loads a generator model folder (config.json, processor files and onnx/{vision_encoder,embed_tokens,
// decoder_model_merged}.onnx). ort.Init must have been called.
func Open(dir string, o Options) (*Generator, error) {
	var cfg modelConfig
	if err := readJSON(filepath.Join(dir, "config.json"), &cfg); err != nil {
		return nil, fmt.Errorf("open generator %s: %w", dir, err)
	}
	tc := cfg.TextConfig
	if tc.NumHiddenLayers <= 0 || tc.NumAttentionHeads <= 0 {
		return nil, fmt.Errorf("open generator %s: config.json has no text_config with num_hidden_layers and num_attention_heads; is this a SmolVLM (idefics3) model folder?", dir)
	}
	g := &Generator{dir: dir, layers: tc.NumHiddenLayers, kvHeads: tc.NumKeyValueHeads, headDim: tc.HeadDim, maxPos: tc.MaxPositions, imageTok: cfg.ImageTokenID}
	if g.kvHeads == 0 {
		g.kvHeads = tc.NumAttentionHeads
	}
	if g.headDim == 0 {
		g.headDim = tc.HiddenSize / tc.NumAttentionHeads
	}
	if g.maxPos == 0 {
		g.maxPos = 8192
	}
	if g.imageTok == 0 {
		g.imageTok = 49190
	}
	g.eos = map[int64]bool{}
	var gc generationConfig
	if err := readJSON(filepath.Join(dir, "generation_config.json"), &gc); err == nil {
		addIDs(g.eos, gc.EOSTokenID)
	}
	if len(g.eos) == 0 {
		addIDs(g.eos, tc.EOSTokenID)
	}
	proc, err := vlm.NewProcessor(dir)
	if err != nil {
		return nil, fmt.Errorf("open generator %s: %w", dir, err)
	}
	g.proc = proc
	if id, ok := proc.Tok.TokenID("<end_of_utterance>"); ok {
		g.eos[id] = true
	}
	so := ort.Options{Threads: o.Threads, Device: o.Device}
	for _, s := range []struct {
		name string
		dst  **ort.Session
	}{{"vision_encoder.onnx", &g.vision}, {"embed_tokens.onnx", &g.embed}, {"decoder_model_merged.onnx", &g.decoder}} {
		p := filepath.Join(dir, "onnx", s.name)
		if _, err := os.Stat(p); err != nil {
			g.Close()
			return nil, fmt.Errorf("open generator %s: missing onnx/%s; a SmolVLM model folder needs vision_encoder.onnx, embed_tokens.onnx and decoder_model_merged.onnx (pull one with `colsmol model pull smolvlm-256m-instruct`)", dir, s.name)
		}
		sess, err := ort.NewSession(p, so)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("open generator %s: %w", dir, err)
		}
		*s.dst = sess
	}
	return g, nil
}

// Processor returns the input processor of the model folder (prompts, images, tokenizer).
func (g *Generator) Processor() *vlm.Processor { return g.proc }

// Close releases the sessions.
func (g *Generator) Close() error {
	var errs []error
	for _, s := range []*ort.Session{g.vision, g.embed, g.decoder} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// Generate runs prefill on the prompt (and its images) and decodes until a stop token or the budget.
// onToken, when not nil, is called with each new token id and the text it adds to the answer (possibly empty
// while a multi-byte character is incomplete); an error from onToken stops generation with that error.
func (g *Generator) Generate(ctx context.Context, in *vlm.Inputs, p Params, onToken func(id int64, text string) error) (*Result, error) {
	maxNew := p.MaxNewTokens
	if maxNew <= 0 {
		maxNew = 256
	}
	S := len(in.InputIDs)
	if S == 0 {
		return nil, errors.New("generate: empty prompt")
	}
	if S+maxNew > g.maxPos {
		if S >= g.maxPos {
			return nil, fmt.Errorf("generate: the prompt has %d tokens but the model's context holds %d; ask about fewer pages (--k) or smaller images", S, g.maxPos)
		}
		maxNew = g.maxPos - S
	}
	emb, D, err := g.embedIDs(in.InputIDs)
	if err != nil {
		return nil, err
	}
	if err := g.mergeImages(ctx, in, emb, D); err != nil {
		return nil, err
	}

	past := make(map[string]ort.Tensor, 2*g.layers)
	for i := 0; i < g.layers; i++ {
		empty := ort.Tensor{Shape: []int64{1, int64(g.kvHeads), 0, int64(g.headDim)}, F32: []float32{}}
		past[fmt.Sprintf("past_key_values.%d.key", i)] = empty
		past[fmt.Sprintf("past_key_values.%d.value", i)] = empty
	}
	outNames := make([]string, 0, 1+2*g.layers)
	outNames = append(outNames, "logits")
	for i := 0; i < g.layers; i++ {
		outNames = append(outNames, fmt.Sprintf("present.%d.key", i), fmt.Sprintf("present.%d.value", i))
	}

	rng := rand.New(rand.NewSource(p.Seed))
	res := &Result{PromptTokens: S, StopReason: "length"}
	attended := S
	stepEmb, stepLen, posStart := emb, S, 0
	prevText := ""
	for step := 0; step < maxNew; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		in := map[string]ort.Tensor{
			"inputs_embeds":  {Shape: []int64{1, int64(stepLen), int64(D)}, F32: stepEmb},
			"attention_mask": {Shape: []int64{1, int64(attended)}, I64: ones(attended)},
			"position_ids":   {Shape: []int64{1, int64(stepLen)}, I64: arange(posStart, stepLen)},
		}
		for k, v := range past {
			in[k] = v
		}
		out, err := g.decoder.Run(in, outNames)
		if err != nil {
			return res, fmt.Errorf("generate: decoder step %d: %w", step, err)
		}
		logits := out["logits"]
		V := int(logits.Shape[len(logits.Shape)-1])
		last := logits.F32[len(logits.F32)-V:]
		tok := pick(last, p, rng)
		res.Tokens = append(res.Tokens, tok)
		text := g.proc.Tok.Decode(stripStop(res.Tokens, g.eos), true)
		delta := ""
		if !strings.HasSuffix(text, string(utf8.RuneError)) && strings.HasPrefix(text, prevText) {
			delta = text[len(prevText):]
			prevText = text
		}
		if onToken != nil {
			if err := onToken(tok, delta); err != nil {
				return res, err
			}
		}
		if g.eos[tok] {
			res.StopReason = "eos"
			break
		}
		for i := 0; i < g.layers; i++ {
			past[fmt.Sprintf("past_key_values.%d.key", i)] = out[fmt.Sprintf("present.%d.key", i)]
			past[fmt.Sprintf("past_key_values.%d.value", i)] = out[fmt.Sprintf("present.%d.value", i)]
		}
		if attended+1 > g.maxPos {
			break
		}
		stepEmb, _, err = g.embedIDs([]int64{tok})
		if err != nil {
			return res, err
		}
		posStart, stepLen = attended, 1
		attended++
	}
	res.Text = strings.TrimSpace(g.proc.Tok.Decode(stripStop(res.Tokens, g.eos), true))
	return res, nil
}

// embedIDs runs the token-embedding graph on a batch of one sequence.
func (g *Generator) embedIDs(ids []int64) ([]float32, int, error) {
	out, err := g.embed.Run(map[string]ort.Tensor{"input_ids": {Shape: []int64{1, int64(len(ids))}, I64: ids}}, []string{"inputs_embeds"})
	if err != nil {
		return nil, 0, fmt.Errorf("generate: embed tokens: %w", err)
	}
	e := out["inputs_embeds"]
	return e.F32, int(e.Shape[len(e.Shape)-1]), nil
}

// mergeImages runs the vision encoder one tile at a time and writes the features into the <image> rows of emb.
func (g *Generator) mergeImages(ctx context.Context, in *vlm.Inputs, emb []float32, D int) error {
	var slots []int
	for i, id := range in.InputIDs {
		if id == g.imageTok {
			slots = append(slots, i)
		}
	}
	if len(slots) == 0 {
		return nil
	}
	ts := in.TileSize
	if ts == 0 {
		ts = 512
	}
	tilePix := 3 * ts * ts
	nTiles := len(in.PixelValues) / tilePix
	if nTiles == 0 {
		return fmt.Errorf("generate: the prompt has %d <image> tokens but no pixel values were given", len(slots))
	}
	next := 0
	for t := 0; t < nTiles; t++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		pix := in.PixelValues[t*tilePix : (t+1)*tilePix]
		mask := make([]bool, ts*ts)
		if in.PixelMask != nil {
			copy(mask, in.PixelMask[t*ts*ts:(t+1)*ts*ts])
		} else {
			for i := range mask {
				mask[i] = true
			}
		}
		out, err := g.vision.Run(map[string]ort.Tensor{
			"pixel_values":         {Shape: []int64{1, 1, 3, int64(ts), int64(ts)}, F32: pix},
			"pixel_attention_mask": {Shape: []int64{1, 1, int64(ts), int64(ts)}, Bool: mask},
		}, []string{"image_features"})
		if err != nil {
			return fmt.Errorf("generate: vision encoder tile %d: %w", t+1, err)
		}
		f := out["image_features"].F32
		rows := len(f) / D
		if next+rows > len(slots) {
			return fmt.Errorf("generate: the image features (%d rows so far) outnumber the %d <image> tokens of the prompt", next+rows, len(slots))
		}
		for r := 0; r < rows; r++ {
			copy(emb[slots[next]*D:(slots[next]+1)*D], f[r*D:(r+1)*D])
			next++
		}
	}
	if next != len(slots) {
		return fmt.Errorf("generate: %d image feature rows for %d <image> tokens; the prompt and the images do not match", next, len(slots))
	}
	return nil
}

// pick chooses the next token: argmax when greedy, else temperature and nucleus sampling.
func pick(logits []float32, p Params, rng *rand.Rand) int64 {
	if p.Temperature <= 0 {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return int64(best)
	}
	type cand struct {
		id int
		p  float64
	}
	maxL := float64(logits[0])
	for _, v := range logits {
		maxL = math.Max(maxL, float64(v))
	}
	cs := make([]cand, len(logits))
	var sum float64
	for i, v := range logits {
		e := math.Exp((float64(v) - maxL) / p.Temperature)
		cs[i] = cand{i, e}
		sum += e
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].p > cs[b].p })
	keep := len(cs)
	if p.TopP > 0 && p.TopP < 1 {
		acc := 0.0
		for i, c := range cs {
			acc += c.p / sum
			if acc >= p.TopP {
				keep = i + 1
				break
			}
		}
	}
	var kept float64
	for _, c := range cs[:keep] {
		kept += c.p
	}
	r := rng.Float64() * kept
	for _, c := range cs[:keep] {
		r -= c.p
		if r <= 0 {
			return int64(c.id)
		}
	}
	return int64(cs[keep-1].id)
}

func stripStop(ids []int64, eos map[int64]bool) []int64 {
	if n := len(ids); n > 0 && eos[ids[n-1]] {
		return ids[:n-1]
	}
	return ids
}

func ones(n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func arange(start, n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(start + i)
	}
	return s
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// addIDs adds an eos_token_id value (a number or a list of numbers) to set.
func addIDs(set map[int64]bool, v any) {
	switch x := v.(type) {
	case float64:
		set[int64(x)] = true
	case []any:
		for _, e := range x {
			if f, ok := e.(float64); ok {
				set[int64(f)] = true
			}
		}
	}
}
