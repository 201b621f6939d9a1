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
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
)

// DefaultMaxNewTokens is the token budget of a generation when Params.MaxNewTokens is 0.
const DefaultMaxNewTokens = 256

// DefaultPrefillChunk is the most prompt tokens one decoder run takes during prefill when
// Options.PrefillChunk is 0. A run's logits are chunk × vocabulary floats (2048 × 49280 × 4 B = 400 MB), so
// longer prompts (many pages) are fed in pieces over the KV cache instead of all at once.
const DefaultPrefillChunk = 2048

// ErrContextTooLong is wrapped by the error Generate returns when the prompt does not fit the model's context.
var ErrContextTooLong = errors.New("the prompt is too long for the model's context")

// Options configure how the generator's graphs run.
type Options struct {
	Threads int    // ONNX Runtime intra-op threads per graph; 0 means the core count
	Device  string // "cpu" (default) or "cuda"
	// PrefillChunk is the most prompt tokens per decoder run during prefill; 0 means DefaultPrefillChunk, a
	// negative value runs the whole prompt at once.
	PrefillChunk int
}

// Params control one generation.
type Params struct {
	MaxNewTokens int     // most tokens to generate; 0 means DefaultMaxNewTokens
	Temperature  float64 // 0 means greedy decoding
	TopP         float64 // nucleus sampling mass in (0,1]; 0 or 1 keeps every token
	Seed         int64   // seed of the sampler: the same seed, prompt and model give the same tokens
}

// Result is what a generation produced.
type Result struct {
	Tokens       []int64 // generated ids, the stop token included when one was generated
	Text         string  // decoded answer without special tokens, trimmed
	PromptTokens int     // length of the prompt in tokens
	StopReason   string  // "eos" (a stop token) or "length" (the budget or the context was used up)
}

// textConfig is the part of config.json's text_config the generator reads.
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
	dir          string
	proc         *vlm.Processor
	vision       *ort.Session
	embed        *ort.Session
	decoder      *ort.Session
	layers       int
	kvHeads      int
	headDim      int
	maxPos       int
	imageTok     int64
	eos          map[int64]bool
	prefillChunk int
	hasPosIDs    bool // the decoder declares position_ids
	hasCacheFlag bool // the decoder declares use_cache_branch (optimum's merged decoders)

	// logitsHook, when set (tests), sees the logits row each token is picked from.
	logitsHook func(step int, logits []float32)
}

var pastKeyRE = regexp.MustCompile(`^past_key_values\.(\d+)\.(key|value)$`)

// Open loads a generator model folder (config.json, processor files and onnx/{vision_encoder,embed_tokens,
// decoder_model_merged}.onnx). ort.Init must have been called.
func Open(dir string, o Options) (*Generator, error) {
	var cfg modelConfig
	if err := readJSON(filepath.Join(dir, "config.json"), &cfg); err != nil {
		return nil, fmt.Errorf("open generator %s: %w; a SmolVLM model folder holds config.json, the processor files and onnx/", dir, err)
	}
	tc := cfg.TextConfig
	if tc.NumHiddenLayers <= 0 || tc.NumAttentionHeads <= 0 {
		return nil, fmt.Errorf("open generator %s: config.json has no text_config with num_hidden_layers and num_attention_heads; is this a SmolVLM (idefics3) model folder?", dir)
	}
	g := &Generator{dir: dir, maxPos: tc.MaxPositions, imageTok: cfg.ImageTokenID, prefillChunk: o.PrefillChunk}
	if g.maxPos <= 0 {
		g.maxPos = 8192
	}
	if g.prefillChunk == 0 {
		g.prefillChunk = DefaultPrefillChunk
	}
	g.eos = map[int64]bool{}
	var gc generationConfig
	if err := readJSON(filepath.Join(dir, "generation_config.json"), &gc); err == nil {
		addIDs(g.eos, gc.EOSTokenID)
	}
	proc, err := vlm.NewProcessor(dir)
	if err != nil {
		return nil, fmt.Errorf("open generator %s: %w", dir, err)
	}
	g.proc = proc
	// Stop ids as transformers.js takes them: generation_config.json's eos_token_id (49279, <end_of_utterance>,
	// in the SmolVLM folders). Without one, text_config's, and <end_of_utterance>, which ends every SmolVLM turn.
	if len(g.eos) == 0 {
		addIDs(g.eos, tc.EOSTokenID)
		if id, ok := proc.Tok.TokenID(vlm.TokEndOfUtterance); ok {
			g.eos[id] = true
		}
	}
	if g.imageTok == 0 {
		g.imageTok = proc.ImageTokenID()
	}
	so := ort.Options{Threads: o.Threads, Device: o.Device}
	for _, s := range []struct {
		name string
		dst  **ort.Session
	}{{"vision_encoder.onnx", &g.vision}, {"embed_tokens.onnx", &g.embed}, {"decoder_model_merged.onnx", &g.decoder}} {
		p := filepath.Join(dir, "onnx", s.name)
		if _, err := os.Stat(p); err != nil {
			g.Close()
			return nil, fmt.Errorf("open generator %s: missing onnx/%s; a SmolVLM model folder needs vision_encoder.onnx, embed_tokens.onnx and decoder_model_merged.onnx (get one with `colsmol model pull smolvlm-256m-instruct`)", dir, s.name)
		}
		sess, err := ort.NewSession(p, so)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("open generator %s: %w", dir, err)
		}
		*s.dst = sess
	}
	if err := g.readDecoderInputs(tc); err != nil {
		g.Close()
		return nil, fmt.Errorf("open generator %s: %w", dir, err)
	}
	return g, nil
}

// readDecoderInputs takes the KV-cache layout from the decoder's declared inputs (layers, kv heads, head size,
// element type) and checks that every input is one the loop knows how to feed.
func (g *Generator) readDecoderInputs(tc textConfig) error {
	layers := map[int]bool{}
	for _, in := range g.decoder.Inputs() {
		switch in.Name {
		case "inputs_embeds", "attention_mask":
			continue
		case "position_ids":
			g.hasPosIDs = true
			continue
		case "use_cache_branch":
			g.hasCacheFlag = true
			continue
		}
		m := pastKeyRE.FindStringSubmatch(in.Name)
		if m == nil {
			return fmt.Errorf("decoder_model_merged.onnx has input %q, which colsmol does not feed; expected inputs_embeds, attention_mask, position_ids and past_key_values.*", in.Name)
		}
		if in.Type != "float32" {
			return fmt.Errorf("decoder_model_merged.onnx keeps its KV cache in %s; colsmol runs float32 caches only (use the fp32, int8, q4 or bnb4 variant, not fp16 or q4f16)", in.Type)
		}
		if len(in.Dims) != 4 {
			return fmt.Errorf("decoder_model_merged.onnx input %s has %d dimensions, want 4 [batch, kv heads, past, head size]", in.Name, len(in.Dims))
		}
		i, _ := strconv.Atoi(m[1])
		layers[i] = true
		if in.Dims[1] > 0 {
			g.kvHeads = int(in.Dims[1])
		}
		if in.Dims[3] > 0 {
			g.headDim = int(in.Dims[3])
		}
	}
	g.layers = len(layers)
	for i := 0; i < g.layers; i++ {
		if !layers[i] {
			return fmt.Errorf("decoder_model_merged.onnx has no past_key_values.%d inputs but has %d layers", i, g.layers)
		}
	}
	if g.layers == 0 {
		return errors.New("decoder_model_merged.onnx has no past_key_values.* inputs; colsmol needs a decoder with a KV cache (the merged decoder of the SmolVLM ONNX export)")
	}
	if g.kvHeads == 0 {
		g.kvHeads = tc.NumKeyValueHeads
		if g.kvHeads == 0 {
			g.kvHeads = tc.NumAttentionHeads
		}
	}
	if g.headDim == 0 {
		g.headDim = tc.HeadDim
		if g.headDim == 0 {
			g.headDim = tc.HiddenSize / tc.NumAttentionHeads
		}
	}
	return nil
}

// Processor returns the input processor of the model folder (prompts, images, tokenizer).
func (g *Generator) Processor() *vlm.Processor { return g.proc }

// ContextLength returns the most tokens (prompt and answer together) the model attends to.
func (g *Generator) ContextLength() int { return g.maxPos }

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

// kvCache holds the decoder's past keys and values by input name, and how many positions they cover.
type kvCache struct {
	tensors map[string]ort.Tensor
	length  int
}

// emptyCache returns the zero-length cache of the first decoder run.
func (g *Generator) emptyCache() *kvCache {
	c := &kvCache{tensors: make(map[string]ort.Tensor, 2*g.layers)}
	for i := 0; i < g.layers; i++ {
		empty := ort.Tensor{Shape: []int64{1, int64(g.kvHeads), 0, int64(g.headDim)}, F32: []float32{}}
		c.tensors[fmt.Sprintf("past_key_values.%d.key", i)] = empty
		c.tensors[fmt.Sprintf("past_key_values.%d.value", i)] = empty
	}
	return c
}

// decode runs the decoder on n new embedded positions (emb, n×D floats) after the cached ones and returns the
// logits of the last new position and the cache extended by the n positions.
func (g *Generator) decode(ctx context.Context, emb []float32, n, D int, cache *kvCache) ([]float32, *kvCache, error) {
	total := cache.length + n
	in := make(map[string]ort.Tensor, len(cache.tensors)+4)
	for k, v := range cache.tensors {
		in[k] = v
	}
	in["inputs_embeds"] = ort.Tensor{Shape: []int64{1, int64(n), int64(D)}, F32: emb}
	in["attention_mask"] = ort.Tensor{Shape: []int64{1, int64(total)}, I64: ones(total)}
	if g.hasPosIDs {
		in["position_ids"] = ort.Tensor{Shape: []int64{1, int64(n)}, I64: arange(cache.length, n)}
	}
	if g.hasCacheFlag {
		in["use_cache_branch"] = ort.Tensor{Shape: []int64{1}, Bool: []bool{cache.length > 0}}
	}
	outNames := make([]string, 0, 1+2*g.layers)
	outNames = append(outNames, "logits")
	for i := 0; i < g.layers; i++ {
		outNames = append(outNames, fmt.Sprintf("present.%d.key", i), fmt.Sprintf("present.%d.value", i))
	}
	out, err := g.decoder.RunContext(ctx, in, outNames)
	if err != nil {
		return nil, nil, err
	}
	logits := out["logits"]
	V := int(logits.Shape[len(logits.Shape)-1])
	// Copy the last row so that the (possibly large) logits of the whole chunk can be freed.
	last := append([]float32(nil), logits.F32[len(logits.F32)-V:]...)
	next := &kvCache{tensors: make(map[string]ort.Tensor, 2*g.layers), length: total}
	for i := 0; i < g.layers; i++ {
		next.tensors[fmt.Sprintf("past_key_values.%d.key", i)] = out[fmt.Sprintf("present.%d.key", i)]
		next.tensors[fmt.Sprintf("past_key_values.%d.value", i)] = out[fmt.Sprintf("present.%d.value", i)]
	}
	return last, next, nil
}

// prefill embeds the prompt, writes the image features into its <image> positions and runs it through the
// decoder in chunks of at most g.prefillChunk tokens. It returns the logits of the last prompt position.
func (g *Generator) prefill(ctx context.Context, in *vlm.Inputs) ([]float32, *kvCache, int, error) {
	emb, D, err := g.embedIDs(ctx, in.InputIDs)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := g.mergeImages(ctx, in, emb, D); err != nil {
		return nil, nil, 0, err
	}
	S := len(in.InputIDs)
	chunk := g.prefillChunk
	if chunk < 0 || chunk > S {
		chunk = S
	}
	cache := g.emptyCache()
	var logits []float32
	for off := 0; off < S; off += chunk {
		n := min(chunk, S-off)
		logits, cache, err = g.decode(ctx, emb[off*D:(off+n)*D], n, D, cache)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("generate: decoder prefill (prompt tokens %d-%d of %d): %w", off+1, off+n, S, err)
		}
	}
	return logits, cache, D, nil
}

// Generate runs prefill on the prompt (and its images) and decodes until a stop token or the budget.
// onToken, when not nil, is called with each new token id and the text it adds to the answer; the pieces put
// together are the answer (leading white space dropped), and a piece is empty while a character split over
// several tokens is incomplete, so a piece never holds part of a UTF-8 sequence. An error from onToken stops
// generation with that error.
func (g *Generator) Generate(ctx context.Context, in *vlm.Inputs, p Params, onToken func(id int64, text string) error) (*Result, error) {
	maxNew := p.MaxNewTokens
	if maxNew <= 0 {
		maxNew = DefaultMaxNewTokens
	}
	S := len(in.InputIDs)
	if S == 0 {
		return nil, errors.New("generate: empty prompt")
	}
	if S >= g.maxPos {
		return nil, fmt.Errorf("generate: %w: it has %d tokens and the model attends to %d at most; ask about fewer pages (--k) or smaller images",
			ErrContextTooLong, S, g.maxPos)
	}
	maxNew = min(maxNew, g.maxPos-S)

	logits, cache, D, err := g.prefill(ctx, in)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewSource(p.Seed))
	res := &Result{PromptTokens: S, StopReason: "length"}
	var stream textStream
	for step := 0; ; step++ {
		if g.logitsHook != nil {
			g.logitsHook(step, logits)
		}
		tok := pick(logits, p, rng)
		res.Tokens = append(res.Tokens, tok)
		stop := g.eos[tok]
		last := stop || step+1 >= maxNew
		if onToken != nil {
			piece := stream.next(g.proc.Tok.Decode(stripStop(res.Tokens, g.eos), true), last)
			if err := onToken(tok, piece); err != nil {
				return res, err
			}
		}
		if stop {
			res.StopReason = "eos"
		}
		if last {
			break
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		emb, _, err := g.embedIDs(ctx, []int64{tok})
		if err != nil {
			return res, err
		}
		if logits, cache, err = g.decode(ctx, emb, 1, D, cache); err != nil {
			return res, fmt.Errorf("generate: decoder step %d: %w", step+1, err)
		}
	}
	res.Text = strings.TrimSpace(g.proc.Tok.Decode(stripStop(res.Tokens, g.eos), true))
	return res, nil
}

// embedIDs runs the token-embedding graph on a batch of one sequence.
func (g *Generator) embedIDs(ctx context.Context, ids []int64) ([]float32, int, error) {
	out, err := g.embed.RunContext(ctx, map[string]ort.Tensor{"input_ids": {Shape: []int64{1, int64(len(ids))}, I64: ids}}, []string{"inputs_embeds"})
	if err != nil {
		return nil, 0, fmt.Errorf("generate: embed tokens: %w", err)
	}
	e := out["inputs_embeds"]
	return e.F32, int(e.Shape[len(e.Shape)-1]), nil
}

// mergeImages runs the vision encoder one tile at a time (tiles are encoded independently, and one at a time
// keeps the attention buffers of the vision graph small) and writes the features into the <image> rows of emb,
// in order.
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
		pix := in.PixelValues[t*tilePix : (t+1)*tilePix]
		mask := make([]bool, ts*ts)
		if in.PixelMask != nil {
			copy(mask, in.PixelMask[t*ts*ts:(t+1)*ts*ts])
		} else {
			for i := range mask {
				mask[i] = true
			}
		}
		out, err := g.vision.RunContext(ctx, map[string]ort.Tensor{
			"pixel_values":         {Shape: []int64{1, 1, 3, int64(ts), int64(ts)}, F32: pix},
			"pixel_attention_mask": {Shape: []int64{1, 1, int64(ts), int64(ts)}, Bool: mask},
		}, []string{"image_features"})
		if err != nil {
			return fmt.Errorf("generate: vision encoder tile %d of %d: %w", t+1, nTiles, err)
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
