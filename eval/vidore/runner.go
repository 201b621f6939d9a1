package vidore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/internal/vlm"
	"github.com/colsmol/colsmol/maxsim"
)

// Embedder is what the runner needs from a retrieval model; *embed.Embedder implements it.
type Embedder interface {
	EmbedPages(ctx context.Context, imgs []*vlm.RGB) ([]embed.Page, error)
	EmbedQuery(ctx context.Context, q string) ([][]float32, error)
}

// queryBatcher is implemented by embedders that embed several queries per call (*embed.Embedder does).
type queryBatcher interface {
	EmbedQueries(ctx context.Context, qs []string) ([][][]float32, error)
}

// Event reports progress of Runner.Run.
type Event struct {
	Dataset string
	// Stage is "queries" or "pages".
	Stage string
	// Done of Total queries or unique pages are handled.
	Done, Total int
	// Embedded and Cached count the pages (or queries) embedded by this run and those found in the cache.
	Embedded, Cached int
}

// Runner evaluates datasets with a retrieval model.
type Runner struct {
	// Embedder embeds pages and queries.
	Embedder Embedder
	// Cache keeps embeddings across runs; nil embeds everything every time.
	Cache *Cache
	// ModelID names the model's embeddings in the cache (see ModelIdentity). Required with a Cache.
	ModelID string
	// PageBatch is the number of pages per EmbedPages call (default 4).
	PageBatch int
	// Workers is the number of goroutines scoring pages (default GOMAXPROCS).
	Workers int
	// Progress, when set, is called as queries and pages are done.
	Progress func(Event)
}

// DatasetResult is the outcome of evaluating one dataset.
type DatasetResult struct {
	Name    string
	Format  Format
	Queries []Query
	Qrels   Qrels
	Run     Run
	Metrics Metrics
	// Pages is the number of passages, UniquePages the number of distinct images among them, Embedded the
	// images embedded by this run (the rest came from the cache).
	Pages, UniquePages, Embedded int
	Seconds                      float64
}

// Run embeds the queries and pages of ds (pages from the cache when it has them), scores every query against
// every passage with exact float32 MaxSim, builds the run and computes the metrics.
func (r *Runner) Run(ctx context.Context, ds *Dataset) (*DatasetResult, error) {
	start := time.Now()
	if len(ds.Queries) == 0 {
		return nil, fmt.Errorf("dataset %s: the dataset has no queries", ds.Name)
	}
	if r.Cache != nil && r.ModelID == "" {
		return nil, errors.New("runner: a cache needs a model identity")
	}
	queries, err := r.embedQueries(ctx, ds)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", ds.Name, err)
	}
	scores := make([][]float64, len(ds.Queries))
	for i := range scores {
		scores[i] = make([]float64, len(ds.Passages))
	}
	pages := uniquePages(ds.Passages)
	embedded, err := r.scorePages(ctx, ds.Name, pages, queries, scores)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", ds.Name, err)
	}
	run, err := BuildRun(ds, scores)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", ds.Name, err)
	}
	return &DatasetResult{
		Name: ds.Name, Format: ds.Format, Queries: ds.Queries, Qrels: ds.Qrels, Run: run,
		Metrics: Evaluate(ds.Qrels, run),
		Pages:   len(ds.Passages), UniquePages: len(pages), Embedded: embedded,
		Seconds: time.Since(start).Seconds(),
	}, nil
}

func (r *Runner) progress(e Event) {
	if r.Progress != nil {
		r.Progress(e)
	}
}

// embedQueries returns the MaxSim queries of ds.Queries, from the cache or the embedder.
func (r *Runner) embedQueries(ctx context.Context, ds *Dataset) ([]*maxsim.Query, error) {
	n := len(ds.Queries)
	keys := make([][32]byte, n)
	for i, q := range ds.Queries {
		keys[i] = QueryKey(q.Text)
	}
	vecs := make([][][]float32, n)
	if r.Cache != nil {
		var err error
		if vecs, err = r.Cache.Queries(r.ModelID, keys); err != nil {
			return nil, err
		}
	}
	var missing []int
	for i := range vecs {
		if vecs[i] == nil {
			missing = append(missing, i)
		}
	}
	cached := n - len(missing)
	r.progress(Event{Dataset: ds.Name, Stage: "queries", Done: cached, Total: n, Cached: cached})
	const chunk = 32
	for lo := 0; lo < len(missing); lo += chunk {
		idx := missing[lo:min(lo+chunk, len(missing))]
		texts := make([]string, len(idx))
		for j, i := range idx {
			texts[j] = ds.Queries[i].Text
		}
		got, err := r.embedQueryTexts(ctx, texts)
		if err != nil {
			return nil, err
		}
		ks := make([][32]byte, len(idx))
		for j, i := range idx {
			vecs[i], ks[j] = got[j], keys[i]
		}
		if r.Cache != nil {
			if err := r.Cache.PutQueries(r.ModelID, ks, got); err != nil {
				return nil, err
			}
		}
		done := lo + len(idx)
		r.progress(Event{Dataset: ds.Name, Stage: "queries", Done: cached + done, Total: n, Embedded: done, Cached: cached})
	}
	out := make([]*maxsim.Query, n)
	for i, v := range vecs {
		q, err := maxsim.NewQuery(v)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", ds.Queries[i].RunID, err)
		}
		out[i] = q
	}
	return out, nil
}

func (r *Runner) embedQueryTexts(ctx context.Context, texts []string) ([][][]float32, error) {
	if b, ok := r.Embedder.(queryBatcher); ok {
		out, err := b.EmbedQueries(ctx, texts)
		if err != nil {
			return nil, fmt.Errorf("embed queries: %w", err)
		}
		if len(out) != len(texts) {
			return nil, fmt.Errorf("embed queries: %d embeddings for %d queries", len(out), len(texts))
		}
		return out, nil
	}
	out := make([][][]float32, len(texts))
	for i, t := range texts {
		v, err := r.Embedder.EmbedQuery(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("embed query %q: %w", t, err)
		}
		out[i] = v
	}
	return out, nil
}

// page is one distinct image of the passage pool and the passage rows showing it.
type page struct {
	key   [32]byte
	image []byte
	rows  []int
}

// uniquePages groups passages by image content, in order of first occurrence.
func uniquePages(ps []Passage) []page {
	at := map[[32]byte]int{}
	var out []page
	for i, p := range ps {
		k := PageKey(p.Image)
		j, ok := at[k]
		if !ok {
			j = len(out)
			at[k] = j
			out = append(out, page{key: k, image: p.Image})
		}
		out[j].rows = append(out[j].rows, i)
	}
	return out
}

// scorePages fills scores[q][row] for every passage row, a block of pages at a time: cached embeddings are
// read, missing ones embedded (and stored), then the block is scored against all queries. It returns the
// number of pages embedded.
func (r *Runner) scorePages(ctx context.Context, name string, pages []page, queries []*maxsim.Query, scores [][]float64) (int, error) {
	batch := r.PageBatch
	if batch <= 0 {
		batch = 4
	}
	block := max(batch, 16)
	embedded, cached := 0, 0
	r.progress(Event{Dataset: name, Stage: "pages", Total: len(pages)})
	for lo := 0; lo < len(pages); lo += block {
		if err := ctx.Err(); err != nil {
			return embedded, err
		}
		blk := pages[lo:min(lo+block, len(pages))]
		vecs, e, c, err := r.pageVectors(ctx, blk, batch)
		if err != nil {
			return embedded, err
		}
		embedded += e
		cached += c
		if err := r.scoreBlock(blk, vecs, queries, scores); err != nil {
			return embedded, err
		}
		r.progress(Event{Dataset: name, Stage: "pages", Done: lo + len(blk), Total: len(pages), Embedded: embedded, Cached: cached})
	}
	return embedded, nil
}

// pageVectors returns the embeddings of a block of pages, embedding those the cache lacks batch by batch.
func (r *Runner) pageVectors(ctx context.Context, blk []page, batch int) (vecs [][][]float32, embedded, cached int, err error) {
	keys := make([][32]byte, len(blk))
	for i, p := range blk {
		keys[i] = p.key
	}
	vecs = make([][][]float32, len(blk))
	if r.Cache != nil {
		if vecs, err = r.Cache.Pages(r.ModelID, keys); err != nil {
			return nil, 0, 0, err
		}
	}
	var missing []int
	for i := range vecs {
		if vecs[i] == nil {
			missing = append(missing, i)
		}
	}
	cached = len(blk) - len(missing)
	for lo := 0; lo < len(missing); lo += batch {
		idx := missing[lo:min(lo+batch, len(missing))]
		imgs := make([]*vlm.RGB, len(idx))
		for j, i := range idx {
			img, err := vlm.DecodeImage(blk[i].image, vlm.AlphaDrop)
			if err != nil {
				return nil, embedded, cached, fmt.Errorf("page of row %d: %w", blk[i].rows[0], err)
			}
			imgs[j] = img
		}
		out, err := r.Embedder.EmbedPages(ctx, imgs)
		if err != nil {
			return nil, embedded, cached, fmt.Errorf("embed pages: %w", err)
		}
		if len(out) != len(idx) {
			return nil, embedded, cached, fmt.Errorf("embed pages: %d embeddings for %d images", len(out), len(idx))
		}
		ks := make([][32]byte, len(idx))
		got := make([][][]float32, len(idx))
		for j, i := range idx {
			vecs[i], ks[j], got[j] = out[j].Vectors, keys[i], out[j].Vectors
		}
		if r.Cache != nil {
			if err := r.Cache.PutPages(r.ModelID, ks, got); err != nil {
				return nil, embedded, cached, err
			}
		}
		embedded += len(idx)
	}
	return vecs, embedded, cached, nil
}

// scoreBlock computes MaxSim of every query against every page of the block, queries split over workers.
func (r *Runner) scoreBlock(blk []page, vecs [][][]float32, queries []*maxsim.Query, scores [][]float64) error {
	docs := make([][]float32, len(blk)) // dimension-major pages
	for i, v := range vecs {
		if len(v) > 0 && len(queries) > 0 && len(v[0]) != queries[0].Dim {
			return fmt.Errorf("page of row %d has %d-dimensional vectors, the queries %d", blk[i].rows[0], len(v[0]), queries[0].Dim)
		}
		docs[i] = transpose(v)
	}
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(queries))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := w; q < len(queries); q += workers {
				s := queries[q].Scorer()
				for i, p := range blk {
					v := float64(s.ScoreFloat(docs[i], len(vecs[i])))
					for _, row := range p.rows {
						scores[q][row] = v
					}
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// transpose turns n vectors into the dimension-major layout maxsim scores.
func transpose(v [][]float32) []float32 {
	if len(v) == 0 {
		return nil
	}
	n, dim := len(v), len(v[0])
	out := make([]float32, n*dim)
	for j, vec := range v {
		for k, x := range vec {
			out[k*n+j] = x
		}
	}
	return out
}
