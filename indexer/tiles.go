package indexer

import (
	"github.com/colsmol/colsmol/internal/vlm"
)

// TileSize is the side of one vision-encoder tile (Idefics3 max_image_size.longest_edge).
const TileSize = 512

// DefaultSecondsPerTile is the cost model of `colsmol index --dry-run` when no measurement is available: the
// time one 512×512 tile takes through full-size colsmol-256m in fp32 on 2 cores (issue 11: a 13-tile page took
// 17.6 s, 17.6/13 ≈ 1.35 s), scaled by 2/NumCPU by EstimateSecondsPerTile.
const DefaultSecondsPerTile = 1.35

// Tiles returns the number of tiles (the global view included) Idefics3's processor makes of a w×h image when
// its longest edge is resized to longestEdge: step 1 resizes the longest side to longestEdge (the other side
// truncated and made even), step 2 rounds both sides up to multiples of 512 (the short side recomputed from the
// new long side), step 3 splits into rows×cols tiles plus one global view, or keeps a single tile when the
// image is no larger than one tile (shared/research/models.md §2.2). It asks internal/vlm's tile planner, the
// code the processor itself runs.
func Tiles(w, h, longestEdge int) (rows, cols, n int) {
	if w <= 0 || h <= 0 {
		return 0, 0, 0
	}
	c := vlm.DefaultImageConfig()
	c.Size.LongestEdge = longestEdge
	l := c.PlanTiles(w, h)
	return l.Rows, l.Cols, l.N
}

// EdgeForBudget returns the longest edge (a multiple of 512, at most modelEdge) at which a w×h image costs at
// most maxTiles tiles; 512 (one tile) when no larger edge fits. maxTiles <= 0 means no budget: modelEdge.
func EdgeForBudget(w, h, modelEdge, maxTiles int) int {
	if maxTiles <= 0 {
		return modelEdge
	}
	if _, _, n := Tiles(w, h, modelEdge); n <= maxTiles {
		return modelEdge
	}
	for edge := (modelEdge - 1) / TileSize * TileSize; edge > TileSize; edge -= TileSize {
		if _, _, n := Tiles(w, h, edge); n <= maxTiles {
			return edge
		}
	}
	return min(TileSize, modelEdge)
}
