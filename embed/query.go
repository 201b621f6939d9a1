package embed

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/colsmol/colsmol/internal/ort"
)

// EmbedQuery embeds one query text in the ColIdefics3 query format; the result has one vector per
// query token.
func (e *Embedder) EmbedQuery(ctx context.Context, q string) ([][]float32, error) {
	vs, err := e.EmbedQueries(ctx, []string{q})
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

// EmbedQueries embeds several queries, batched by similar length (Options.QueryBatch per call) with left
// padding; the vectors of padding positions are dropped, so each result matches EmbedQuery of that text.
func (e *Embedder) EmbedQueries(ctx context.Context, qs []string) ([][][]float32, error) {
	t0 := time.Now()
	defer since(&e.stats.total, t0)
	ids := make([][]int64, len(qs))
	masks := make([][]int64, len(qs))
	for i, q := range qs {
		in, err := e.proc.Query(q)
		if err != nil {
			return nil, fmt.Errorf("query %d: prepare the model inputs: %w", i, err)
		}
		if len(in.InputIDs) == 0 {
			return nil, fmt.Errorf("query %d: the processor made no tokens", i)
		}
		ids[i], masks[i] = in.InputIDs, in.AttentionMask
	}
	since(&e.stats.preprocess, t0)
	order := make([]int, len(qs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(ids[a]) - len(ids[b]) })
	out := make([][][]float32, len(qs))
	for start := 0; start < len(order); start += e.opts.QueryBatch {
		batch := order[start:min(start+e.opts.QueryBatch, len(order))]
		if err := e.queryBatch(ctx, batch, ids, masks, out); err != nil {
			return nil, err
		}
	}
	e.stats.queries.Add(int64(len(qs)))
	return out, nil
}

// queryBatch embeds the queries at the given indexes in one call, left-padded to the longest.
func (e *Embedder) queryBatch(ctx context.Context, batch []int, ids, masks [][]int64, out [][][]float32) error {
	b, s := len(batch), 0
	for _, i := range batch {
		s = max(s, len(ids[i]))
	}
	bids := make([]int64, b*s)
	bmask := make([]int64, b*s)
	for r, i := range batch {
		off := r*s + s - len(ids[i])
		for c := r * s; c < off; c++ {
			bids[c] = e.padTokenID
		}
		copy(bids[off:], ids[i])
		copy(bmask[off:], masks[i])
	}
	pos := positions(bmask, b, s)
	var vecs []float32
	var vdim int
	var err error
	if e.layout == LayoutSplit {
		var embeds []float32
		var dim int
		if embeds, dim, err = e.tokenEmbeddings(ctx, bids, b, s); err == nil {
			vecs, vdim, err = e.textEmbeddings(ctx, embeds, dim, bmask, pos, b, s)
		}
	} else {
		vecs, vdim, err = e.singleQueries(ctx, bids, bmask, pos, b, s)
	}
	if err != nil {
		return fmt.Errorf("embed queries: %w", err)
	}
	for r, i := range batch {
		n := len(ids[i])
		rows := make([][]float32, n)
		for k := range rows {
			at := (r*s + s - n + k) * vdim
			rows[k] = vecs[at : at+vdim : at+vdim]
		}
		out[i] = rows
	}
	return nil
}

// singleQueries runs text-only inputs through the single graph. It first offers zero tiles; a graph that
// refuses them gets one all-zero tile per query instead (an all-zero tile is padding, and there is no
// <image> token to receive it).
func (e *Embedder) singleQueries(ctx context.Context, ids, mask, pos []int64, b, s int) ([]float32, int, error) {
	t := int64(512)
	for _, in := range e.single.Inputs() {
		if in.Name == "pixel_values" && len(in.Dims) == 5 && in.Dims[4] > 0 {
			t = in.Dims[4]
		}
	}
	run := func(tiles int64) ([]float32, int, error) {
		feed := map[string]ort.Tensor{
			"input_ids":      ort.I64(ids, int64(b), int64(s)),
			"attention_mask": ort.I64(mask, int64(b), int64(s)),
			"pixel_values":   ort.F32(make([]float32, int64(b)*tiles*3*t*t), int64(b), tiles, 3, t, t),
		}
		e.addPixelMask(feed, make([]bool, int64(b)*tiles*t*t), int64(b), tiles, t)
		if e.single.HasInput("position_ids") {
			feed["position_ids"] = ort.I64(pos, int64(b), int64(s))
		}
		return e.runSingle(ctx, feed)
	}
	if !e.noEmptyTiles.Load() {
		vecs, vdim, err := run(0)
		if err == nil || ctx.Err() != nil {
			return vecs, vdim, err
		}
		e.noEmptyTiles.Store(true)
	}
	return run(1)
}
