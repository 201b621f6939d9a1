package indexer

import "testing"

func TestTiles(t *testing.T) {
	// The first four rows are the worked examples of shared/research/models.md §2.5 (cross-checked there
	// against colpali's test of a 16×32 image and a third-party count for 1280×800); the others follow the
	// same three steps at smaller longest edges.
	for _, c := range []struct{ w, h, edge, rows, cols, n int }{
		{1280, 800, 2048, 3, 4, 13},
		{16, 32, 2048, 4, 2, 9},
		{1654, 2339, 2048, 4, 3, 13},
		{1000, 1000, 2048, 4, 4, 17},
		{1654, 2339, 1024, 2, 2, 5},  // A4 at 1024: 724×1024 -> 1024×1024
		{1654, 2339, 1536, 3, 3, 10}, // A4 at 1536: 1086×1536 -> 1536×1536
		{2339, 1654, 512, 0, 0, 1},   // no larger than one tile: not split
		{5000, 500, 2048, 1, 4, 5},   // a wide strip
	} {
		rows, cols, n := Tiles(c.w, c.h, c.edge)
		if rows != c.rows || cols != c.cols || n != c.n {
			t.Errorf("%dx%d at %d: %dx%d (%d tiles), want %dx%d (%d)", c.w, c.h, c.edge, rows, cols, n, c.rows, c.cols, c.n)
		}
	}
}

func TestEdgeForBudget(t *testing.T) {
	for _, c := range []struct{ w, h, max, edge int }{
		{1654, 2339, 0, 2048},  // no budget
		{1654, 2339, 13, 2048}, // A4 fits 13 at the full size
		{1654, 2339, 12, 1536}, // 10 tiles at 1536
		{1654, 2339, 9, 1024},  // 5 tiles at 1024
		{1654, 2339, 5, 1024},
		{1654, 2339, 4, 512}, // only a single tile fits
		{1654, 2339, 1, 512},
		{5000, 500, 5, 2048}, // a strip costs 5 tiles even at the full size
	} {
		if got := EdgeForBudget(c.w, c.h, 2048, c.max); got != c.edge {
			t.Errorf("%dx%d within %d tiles: edge %d, want %d", c.w, c.h, c.max, got, c.edge)
		}
	}
}
