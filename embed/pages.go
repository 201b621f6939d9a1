package embed

import (
	"context"
	"fmt"
	"time"

	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
)

// preparedPage is a page whose tiles went through the vision graph: what the text graph still needs.
type preparedPage struct {
	index     int
	ids, mask []int64
	features  []float32 // image feature rows, featDim wide, in <image> order
	featDim   int
	tiles     vlm.TileLayout
}

// EmbedPages embeds page images. Each page is preprocessed, then its tiles go through the vision graph
// while it holds the embedder's page lane (one page at a time across all callers); pages whose token
// sequences have the same length then share text-graph calls, up to Options.BatchTokens tokens. The
// result has one Page per image, in order; an error names the page (0-based) that failed.
func (e *Embedder) EmbedPages(ctx context.Context, imgs []*vlm.RGB) ([]Page, error) {
	t0 := time.Now()
	defer since(&e.stats.total, t0)
	out := make([]Page, len(imgs))
	pending := map[int][]*preparedPage{} // by sequence length
	var order []int                      // sequence lengths in the order first seen
	for i, img := range imgs {
		if img == nil {
			return nil, fmt.Errorf("page %d: no image", i)
		}
		if e.layout == LayoutSingle {
			p, err := e.singlePage(ctx, img)
			if err != nil {
				return nil, fmt.Errorf("page %d: %w", i, err)
			}
			out[i] = p
			e.stats.pages.Add(1)
			continue
		}
		p, err := e.preparePage(ctx, i, img)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", i, err)
		}
		s := len(p.ids)
		if _, ok := pending[s]; !ok {
			order = append(order, s)
		}
		pending[s] = append(pending[s], p)
		if (len(pending[s])+1)*s > e.opts.BatchTokens {
			if err := e.flushPages(ctx, pending[s], out); err != nil {
				return nil, err
			}
			pending[s] = pending[s][:0]
		}
	}
	for _, s := range order {
		if err := e.flushPages(ctx, pending[s], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// acquireLane waits for the page lane (one page's heavy work at a time).
func (e *Embedder) acquireLane(ctx context.Context) (release func(), err error) {
	select {
	case e.pageLane <- struct{}{}:
		return func() { <-e.pageLane }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// preparePage builds the document inputs of one image and runs its tiles through the vision graph.
// Preprocessing runs before the page lane is taken, so that concurrent callers prepare their next page
// while another page is in the vision graph.
func (e *Embedder) preparePage(ctx context.Context, index int, img *vlm.RGB) (*preparedPage, error) {
	in, err := e.documentInputs(ctx, img)
	if err != nil {
		return nil, err
	}
	release, err := e.acquireLane(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	feats, dim, err := e.visionFeatures(ctx, in)
	if err != nil {
		return nil, err
	}
	if n := e.countImageTokens(in.InputIDs); n*dim != len(feats) {
		return nil, fmt.Errorf("the vision graph gave %d feature rows for %d tiles but the prompt has %d <image> tokens "+
			"(a tile whose pixels are all exactly mid-grey is taken for padding and dropped)", len(feats)/dim, tileCount(in), n)
	}
	return &preparedPage{index: index, ids: in.InputIDs, mask: in.AttentionMask, features: feats, featDim: dim, tiles: firstTiles(in)}, nil
}

// documentInputs builds the model inputs of one page (prompt, ids, tiles), with the processor EmbedPagesAt
// put into ctx if any.
func (e *Embedder) documentInputs(ctx context.Context, img *vlm.RGB) (*vlm.Inputs, error) {
	t0 := time.Now()
	in, err := processorFor(ctx, e.proc).Document(img)
	since(&e.stats.preprocess, t0)
	if err != nil {
		return nil, fmt.Errorf("prepare the model inputs: %w", err)
	}
	return in, nil
}

// visionFeatures runs the tiles of one page through the vision graph, TilesPerCall at a time, and returns
// the feature rows (flattened) and their width.
func (e *Embedder) visionFeatures(ctx context.Context, in *vlm.Inputs) ([]float32, int, error) {
	n, t := tileCount(in), int64(in.TileSize)
	if n == 0 {
		return nil, 0, fmt.Errorf("the processor made no tiles")
	}
	pix, plane := int64(3)*t*t, t*t
	var feats []float32
	dim := 0
	for start := 0; start < n; start += e.opts.TilesPerCall {
		k := min(e.opts.TilesPerCall, n-start)
		feed := map[string]ort.Tensor{
			"pixel_values": ort.F32(in.PixelValues[int64(start)*pix:int64(start+k)*pix], 1, int64(k), 3, t, t),
		}
		if e.vision.HasInput("pixel_attention_mask") {
			feed["pixel_attention_mask"] = ort.Bool(in.PixelMask[int64(start)*plane:int64(start+k)*plane], 1, int64(k), t, t)
		}
		t0 := time.Now()
		out, err := e.vision.RunContext(ctx, feed, []string{"image_features"})
		since(&e.stats.vision, t0)
		if err != nil {
			return nil, 0, fmt.Errorf("vision encoder, tiles %d-%d of %d: %w", start+1, start+k, n, err)
		}
		f := out["image_features"]
		dim = int(f.Shape[len(f.Shape)-1])
		if feats == nil {
			feats = make([]float32, 0, n*len(f.F32)/k)
		}
		feats = append(feats, f.F32...)
	}
	return feats, dim, nil
}

// flushPages runs prepared pages of one sequence length through embed_tokens and the text graph, as one
// batch, and stores their Pages in out.
func (e *Embedder) flushPages(ctx context.Context, group []*preparedPage, out []Page) error {
	if len(group) == 0 {
		return nil
	}
	release, err := e.acquireLane(ctx)
	if err != nil {
		return err
	}
	defer release()
	b, s := len(group), len(group[0].ids)
	ids := make([]int64, 0, b*s)
	mask := make([]int64, 0, b*s)
	for _, p := range group {
		ids = append(ids, p.ids...)
		mask = append(mask, p.mask...)
	}
	embeds, dim, err := e.tokenEmbeddings(ctx, ids, b, s)
	if err != nil {
		return err
	}
	for k, p := range group {
		if dim != p.featDim {
			return fmt.Errorf("page %d: image features are %d wide but token embeddings %d; the model's graphs do not match", p.index, p.featDim, dim)
		}
		row := 0
		base := k * s * dim
		for pos, id := range p.ids {
			if id == e.imageTokenID {
				copy(embeds[base+pos*dim:base+(pos+1)*dim], p.features[row*dim:(row+1)*dim])
				row++
			}
		}
	}
	vecs, vdim, err := e.textEmbeddings(ctx, embeds, dim, mask, positions(mask, b, s), b, s)
	if err != nil {
		return fmt.Errorf("pages %d-%d: %w", group[0].index, group[b-1].index, err)
	}
	for k, p := range group {
		out[p.index] = e.makePage(p.ids, vecs[k*s*vdim:(k+1)*s*vdim], vdim, p.tiles)
		e.stats.pages.Add(1)
	}
	return nil
}

// tokenEmbeddings runs embed_tokens on ids [b,s] and returns inputs_embeds (flattened) and its width.
func (e *Embedder) tokenEmbeddings(ctx context.Context, ids []int64, b, s int) ([]float32, int, error) {
	t0 := time.Now()
	out, err := e.tokens.RunContext(ctx, map[string]ort.Tensor{"input_ids": ort.I64(ids, int64(b), int64(s))}, []string{"inputs_embeds"})
	since(&e.stats.tokens, t0)
	if err != nil {
		return nil, 0, fmt.Errorf("token embeddings: %w", err)
	}
	x := out["inputs_embeds"]
	return x.F32, int(x.Shape[len(x.Shape)-1]), nil
}

// textEmbeddings runs the text graph and returns the projected vectors [b,s,vdim] (flattened) and vdim.
func (e *Embedder) textEmbeddings(ctx context.Context, embeds []float32, dim int, mask, pos []int64, b, s int) ([]float32, int, error) {
	feed := map[string]ort.Tensor{
		"inputs_embeds":  ort.F32(embeds, int64(b), int64(s), int64(dim)),
		"attention_mask": ort.I64(mask, int64(b), int64(s)),
	}
	if e.text.HasInput("position_ids") {
		feed["position_ids"] = ort.I64(pos, int64(b), int64(s))
	}
	t0 := time.Now()
	out, err := e.text.RunContext(ctx, feed, []string{"embeddings"})
	since(&e.stats.text, t0)
	if err != nil {
		return nil, 0, fmt.Errorf("text embeddings: %w", err)
	}
	v := out["embeddings"]
	return v.F32, int(v.Shape[len(v.Shape)-1]), nil
}

// singlePage embeds one page with the single-graph layout.
func (e *Embedder) singlePage(ctx context.Context, img *vlm.RGB) (Page, error) {
	in, err := e.documentInputs(ctx, img)
	if err != nil {
		return Page{}, err
	}
	release, err := e.acquireLane(ctx)
	if err != nil {
		return Page{}, err
	}
	defer release()
	n, t, s := int64(tileCount(in)), int64(in.TileSize), int64(len(in.InputIDs))
	feed := map[string]ort.Tensor{
		"input_ids":      ort.I64(in.InputIDs, 1, s),
		"attention_mask": ort.I64(in.AttentionMask, 1, s),
		"pixel_values":   ort.F32(in.PixelValues, 1, n, 3, t, t),
	}
	e.addPixelMask(feed, in.PixelMask, 1, n, t)
	if e.single.HasInput("position_ids") {
		feed["position_ids"] = ort.I64(positions(in.AttentionMask, 1, int(s)), 1, s)
	}
	vecs, vdim, err := e.runSingle(ctx, feed)
	if err != nil {
		return Page{}, err
	}
	return e.makePage(in.InputIDs, vecs, vdim, firstTiles(in)), nil
}

// addPixelMask feeds pixel_attention_mask to the single graph in the element type it declares.
func (e *Embedder) addPixelMask(feed map[string]ort.Tensor, mask []bool, b, n, t int64) {
	for _, in := range e.single.Inputs() {
		if in.Name != "pixel_attention_mask" {
			continue
		}
		if in.Type == "int64" {
			m := make([]int64, len(mask))
			for i, v := range mask {
				if v {
					m[i] = 1
				}
			}
			feed[in.Name] = ort.I64(m, b, n, t, t)
		} else {
			feed[in.Name] = ort.Bool(mask, b, n, t, t)
		}
	}
}

// runSingle runs the single graph and returns its embeddings (flattened) and their width.
func (e *Embedder) runSingle(ctx context.Context, feed map[string]ort.Tensor) ([]float32, int, error) {
	t0 := time.Now()
	out, err := e.single.RunContext(ctx, feed, []string{"embeddings"})
	since(&e.stats.text, t0)
	if err != nil {
		return nil, 0, fmt.Errorf("embedding graph: %w", err)
	}
	v := out["embeddings"]
	return v.F32, int(v.Shape[len(v.Shape)-1]), nil
}

// makePage builds a Page from the vectors of one sequence (flattened, vdim wide).
func (e *Embedder) makePage(ids []int64, vecs []float32, vdim int, tiles vlm.TileLayout) Page {
	p := Page{Tiles: tiles}
	for pos, id := range ids {
		isImage := id == e.imageTokenID
		if e.opts.ImageTokensOnly && !isImage {
			continue
		}
		if isImage {
			p.ImagePositions = append(p.ImagePositions, len(p.Vectors))
		}
		p.Vectors = append(p.Vectors, vecs[pos*vdim:(pos+1)*vdim:(pos+1)*vdim])
	}
	return p
}

// countImageTokens counts the <image> ids.
func (e *Embedder) countImageTokens(ids []int64) int {
	n := 0
	for _, id := range ids {
		if id == e.imageTokenID {
			n++
		}
	}
	return n
}

// tileCount returns the number of tiles in the inputs' pixel values.
func tileCount(in *vlm.Inputs) int {
	t := in.TileSize
	if t <= 0 {
		return 0
	}
	return len(in.PixelValues) / (3 * t * t)
}

// firstTiles returns the tile layout of the (only) image of a page.
func firstTiles(in *vlm.Inputs) vlm.TileLayout {
	if len(in.Tiles) == 0 {
		return vlm.TileLayout{}
	}
	return in.Tiles[0]
}

// positions returns position ids for a [b,s] attention mask: 0, 1, ... over the attended tokens of each
// row, 0 on masked (padding) tokens. For an unpadded row this is 0..s-1.
func positions(mask []int64, b, s int) []int64 {
	pos := make([]int64, b*s)
	for r := 0; r < b; r++ {
		next := int64(0)
		for c := 0; c < s; c++ {
			if mask[r*s+c] != 0 {
				pos[r*s+c] = next
				next++
			}
		}
	}
	return pos
}
