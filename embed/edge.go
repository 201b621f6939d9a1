package embed

import (
	"context"
	"fmt"

	"github.com/colsmol/colsmol/internal/vlm"
)

// processorKey carries the processor of an EmbedPagesAt call through EmbedPages.
type processorKey struct{}

// processorFor returns the processor EmbedPagesAt put into ctx, or def.
func processorFor(ctx context.Context, def *vlm.Processor) *vlm.Processor {
	if p, ok := ctx.Value(processorKey{}).(*vlm.Processor); ok {
		return p
	}
	return def
}

// EmbedPagesAt is EmbedPages with the pages resized to longestEdge instead of the model's
// size.longest_edge (preprocessor_config.json): a tile budget for `colsmol index --max-tiles`, trading
// detail for speed (an A4 page is 13 tiles at 2048, 5 at 1024). longestEdge must be a positive multiple of
// the tile size, no larger than the model's own.
func (e *Embedder) EmbedPagesAt(ctx context.Context, imgs []*vlm.RGB, longestEdge int) ([]Page, error) {
	tile, max := e.proc.Image.TileSize(), e.proc.Image.Size.LongestEdge
	if longestEdge == max {
		return e.EmbedPages(ctx, imgs)
	}
	if longestEdge <= 0 || longestEdge%tile != 0 || longestEdge > max {
		return nil, fmt.Errorf("longest edge %d: want a multiple of %d up to %d", longestEdge, tile, max)
	}
	p := *e.proc
	p.Image.Size.LongestEdge = longestEdge
	return e.EmbedPages(context.WithValue(ctx, processorKey{}, &p), imgs)
}
