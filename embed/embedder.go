package embed

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
)

// Options configure an [Embedder]. The zero value means: all cores, CPU, every position kept.
type Options struct {
	// Threads is the number of ONNX Runtime intra-op threads per graph; 0 means one per core.
	Threads int
	// Device is "cpu" (or "") or "cuda".
	Device string
	// ImageTokensOnly keeps only the vectors of the <image> positions of a page (colpali keeps all).
	ImageTokensOnly bool
	// TilesPerCall is how many tiles go through the vision graph in one call; 0 means 1.
	TilesPerCall int
	// BatchTokens caps the tokens (pages × sequence length) of one text-graph call; 0 means 4096.
	// Pages share a call only if their sequences have the same length.
	BatchTokens int
	// QueryBatch caps the queries of one text-graph call; 0 means 32.
	QueryBatch int
}

func (o Options) withDefaults() Options {
	if o.TilesPerCall <= 0 {
		o.TilesPerCall = 1
	}
	if o.BatchTokens <= 0 {
		o.BatchTokens = 4096
	}
	if o.QueryBatch <= 0 {
		o.QueryBatch = 32
	}
	return o
}

// Page is the embedding of one page image.
type Page struct {
	// Vectors holds one 128-d vector per kept input position, in sequence order.
	Vectors [][]float32
	// ImagePositions are the indexes into Vectors of the <image> tokens, in order (tiles row-major, the
	// global tile last).
	ImagePositions []int
	// Tiles is the tile grid the page was cut into.
	Tiles vlm.TileLayout
}

// Layout names the graph layout of a model folder.
type Layout string

// The two model-folder layouts.
const (
	LayoutSplit  Layout = "split"  // onnx/vision_encoder.onnx + embed_tokens.onnx + text_embeddings.onnx
	LayoutSingle Layout = "single" // onnx/model.onnx -> embeddings
)

// File names of the layouts, relative to the model folder.
var (
	splitFiles  = []string{"onnx/vision_encoder.onnx", "onnx/embed_tokens.onnx", "onnx/text_embeddings.onnx"}
	singleFiles = []string{"onnx/model.onnx"}
)

// ErrNoModel means the folder holds no retriever graphs in either layout.
var ErrNoModel = errors.New("no retrieval model")

// Embedder embeds pages and queries with one loaded model. It is safe for concurrent use.
type Embedder struct {
	dir    string
	opts   Options
	layout Layout
	proc   *vlm.Processor

	imageTokenID int64
	padTokenID   int64

	vision, tokens, text *ort.Session // split layout
	single               *ort.Session // single-graph layout

	// pageLane lets one page at a time hold its tiles in memory and the cores busy.
	pageLane chan struct{}
	// noEmptyTiles is set once the single graph refused a query with zero tiles.
	noEmptyTiles atomic.Bool

	stats statsCounters

	closeOnce sync.Once
	closeErr  error
}

// Open loads the model folder dir (configs, tokenizer and onnx/ graphs) and detects its layout. It starts
// ONNX Runtime with ort.Init("") if nobody did; callers with an explicit library path call ort.Init first.
func Open(dir string, o Options) (*Embedder, error) {
	layout, err := DetectLayout(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	proc, err := vlm.NewProcessor(dir)
	if err != nil {
		return nil, fmt.Errorf("load the processor of %s: %w", dir, err)
	}
	if _, err := ort.Init(""); err != nil {
		return nil, err
	}
	e := &Embedder{
		dir: dir, opts: o.withDefaults(), layout: layout, proc: proc,
		imageTokenID: cfg.imageTokenID, padTokenID: cfg.padTokenID,
		pageLane: make(chan struct{}, 1),
	}
	so := ort.Options{Threads: o.Threads, Device: o.Device}
	open := func(rel string) (*ort.Session, error) { return ort.NewSession(filepath.Join(dir, rel), so) }
	switch layout {
	case LayoutSplit:
		if e.vision, err = open(splitFiles[0]); err == nil {
			if e.tokens, err = open(splitFiles[1]); err == nil {
				e.text, err = open(splitFiles[2])
			}
		}
	default:
		e.single, err = open(singleFiles[0])
	}
	if err == nil {
		err = e.checkGraphs()
	}
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("load retrieval model %s: %w", dir, err)
	}
	return e, nil
}

// DetectLayout tells which layout the model folder dir holds.
func DetectLayout(dir string) (Layout, error) {
	exists := func(files []string) bool {
		for _, f := range files {
			if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	switch {
	case exists(splitFiles):
		return LayoutSplit, nil
	case exists(singleFiles):
		return LayoutSingle, nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%w: %s is not a folder; pass a model folder or a registry name such as colsmol-256m", ErrNoModel, dir)
	}
	hint := "run `colsmol model pull colsmol-256m` or build one with `colsmol model convert`"
	if exists([]string{"onnx/decoder_model_merged.onnx"}) {
		hint = "it looks like an answer model (decoder_model_merged.onnx); pass it with --generator, and a retriever such as colsmol-256m with --model"
	}
	return "", fmt.Errorf("%w in %s: it has neither the split layout (%s, %s, %s) nor a single graph (%s); %s",
		ErrNoModel, dir, splitFiles[0], splitFiles[1], splitFiles[2], singleFiles[0], hint)
}

// checkGraphs verifies that the graphs have the inputs and outputs this package feeds and reads.
func (e *Embedder) checkGraphs() error {
	type need struct {
		s       *ort.Session
		inputs  []string
		outputs []string
	}
	var needs []need
	if e.layout == LayoutSplit {
		needs = []need{
			{e.vision, []string{"pixel_values"}, []string{"image_features"}},
			{e.tokens, []string{"input_ids"}, []string{"inputs_embeds"}},
			{e.text, []string{"inputs_embeds", "attention_mask"}, []string{"embeddings"}},
		}
	} else {
		needs = []need{{e.single, []string{"input_ids", "attention_mask", "pixel_values"}, []string{"embeddings"}}}
	}
	for _, n := range needs {
		for _, in := range n.inputs {
			if !n.s.HasInput(in) {
				return fmt.Errorf("%s has no input %q (it has %v)", n.s.Path(), in, n.s.InputNames())
			}
		}
		for _, out := range n.outputs {
			found := false
			for _, name := range n.s.OutputNames() {
				found = found || name == out
			}
			if !found {
				return fmt.Errorf("%s has no output %q (it has %v)", n.s.Path(), out, n.s.OutputNames())
			}
		}
	}
	return nil
}

// modelConfig holds what the embedder reads from config.json.
type modelConfig struct {
	imageTokenID int64
	padTokenID   int64
}

// readConfig reads image_token_id and the text model's pad_token_id, with the SmolVLM values as
// defaults (49190 and 2).
func readConfig(dir string) (modelConfig, error) {
	cfg := modelConfig{imageTokenID: 49190, padTokenID: 2}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return cfg, fmt.Errorf("read the model config: %w; a model folder needs config.json", err)
	}
	var raw struct {
		ImageTokenID    *int64 `json:"image_token_id"`
		ImageTokenIndex *int64 `json:"image_token_index"`
		TextConfig      struct {
			PadTokenID *int64 `json:"pad_token_id"`
		} `json:"text_config"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return cfg, fmt.Errorf("read %s: %w", filepath.Join(dir, "config.json"), err)
	}
	switch {
	case raw.ImageTokenID != nil:
		cfg.imageTokenID = *raw.ImageTokenID
	case raw.ImageTokenIndex != nil:
		cfg.imageTokenID = *raw.ImageTokenIndex
	}
	// The top-level pad_token_id of Idefics3 configs (128002) lies outside the vocabulary; the text
	// model's is the one its embedding table knows.
	if raw.TextConfig.PadTokenID != nil {
		cfg.padTokenID = *raw.TextConfig.PadTokenID
	}
	return cfg, nil
}

// Layout returns the layout of the loaded model.
func (e *Embedder) Layout() Layout { return e.layout }

// Dir returns the model folder.
func (e *Embedder) Dir() string { return e.dir }

// Processor returns the processor that builds the model inputs (prompts, tokens, tiles).
func (e *Embedder) Processor() *vlm.Processor { return e.proc }

// Close frees the graphs. Calls in flight finish first; closing twice is harmless.
func (e *Embedder) Close() error {
	e.closeOnce.Do(func() {
		var errs []error
		for _, s := range []*ort.Session{e.vision, e.tokens, e.text, e.single} {
			if s != nil {
				errs = append(errs, s.Close())
			}
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

// Stats are cumulative timings of an Embedder, for benchmarks and progress reports.
type Stats struct {
	Pages, Queries int64
	// Total is the wall time spent inside EmbedPages and EmbedQueries.
	Total time.Duration
	// Preprocess is the time spent building model inputs (decoding excluded: pages arrive decoded).
	Preprocess time.Duration
	// Vision, Tokens and Text are the times inside ONNX Runtime runs of each graph (for the single-graph
	// layout everything counts as Text).
	Vision, Tokens, Text time.Duration
}

// Runtime returns the time spent inside ONNX Runtime.
func (s Stats) Runtime() time.Duration { return s.Vision + s.Tokens + s.Text }

// OutsideShare returns the share of Total not spent inside ONNX Runtime (0 when nothing ran).
func (s Stats) OutsideShare() float64 {
	if s.Total <= 0 {
		return 0
	}
	return float64(s.Total-s.Runtime()) / float64(s.Total)
}

// statsCounters accumulates Stats atomically (nanoseconds).
type statsCounters struct {
	pages, queries                          atomic.Int64
	total, preprocess, vision, tokens, text atomic.Int64
}

// Stats returns the cumulative timings since Open.
func (e *Embedder) Stats() Stats {
	c := &e.stats
	return Stats{
		Pages: c.pages.Load(), Queries: c.queries.Load(),
		Total: time.Duration(c.total.Load()), Preprocess: time.Duration(c.preprocess.Load()),
		Vision: time.Duration(c.vision.Load()), Tokens: time.Duration(c.tokens.Load()), Text: time.Duration(c.text.Load()),
	}
}

// since adds the time elapsed since t0 to counter.
func since(counter *atomic.Int64, t0 time.Time) { counter.Add(int64(time.Since(t0))) }
