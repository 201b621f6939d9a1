package web

import (
	"math"
	"testing"
)

func TestComputeSimMap_LaysTilesOnThePage(t *testing.T) {
	// A page cut into 2 rows × 3 cols of tiles plus the global tile, preceded by 5 text tokens. The query has
	// two vectors, e1 and e2; each planted patch vector scores a known value against them.
	const text, rows, cols = 5, 2, 3
	e := func(a, b float32) []float32 { return []float32{a, b, 0, 0} }
	n := text + (rows*cols+1)*64
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = e(0, 0)
	}
	pos := make([]int, 0, n-text)
	for i := text; i < n; i++ {
		pos = append(pos, i)
	}
	vecs[0] = e(10, 10)                // a text token: must not show up anywhere
	vecs[text+2*64+7] = e(3, 0)        // tile 2 (row 0, col 2), patch 7 (row 0, col 7): page cell (0, 23)
	vecs[text+3*64+8] = e(0, 2)        // tile 3 (row 1, col 0), patch 8 (row 1, col 0): page cell (9, 0)
	vecs[text+5*64+63] = e(-1, -2)     // tile 5 (row 1, col 2), patch 63 (row 7, col 7): page cell (15, 23)
	vecs[text+6*64+0] = e(5, 0)        // the global tile, patch 0
	q := [][]float32{e(1, 0), e(0, 1)} // best over the query vectors: max(a, b)

	m, err := computeSimMap(q, vecs, pos, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 16 || m.Cols != 24 || len(m.Values) != 16*24 {
		t.Fatalf("got %d×%d with %d values; want 16×24 with 384", m.Rows, m.Cols, len(m.Values))
	}
	want := map[[2]int]float32{{0, 23}: 3, {9, 0}: 2, {15, 23}: -1, {0, 0}: 0, {8, 8}: 0}
	for rc, w := range want {
		if got := m.Values[rc[0]*24+rc[1]]; got != w {
			t.Errorf("cell (%d, %d) = %v; want %v", rc[0], rc[1], got, w)
		}
	}
	if m.Max != 3 || m.Min != -1 {
		t.Errorf("min, max = %v, %v; want -1, 3", m.Min, m.Max)
	}
	if len(m.Global) != 64 || m.Global[0] != 5 || m.Global[1] != 0 {
		t.Errorf("global map starts %v (len %d); want [5 0 ...] of 64", m.Global[:2], len(m.Global))
	}
}

func TestComputeSimMap_Errors(t *testing.T) {
	vecs := make([][]float32, 64)
	pos := make([]int, 64)
	for i := range pos {
		vecs[i], pos[i] = []float32{1}, i
	}
	if _, err := computeSimMap([][]float32{{1}}, vecs, pos, 2, 2); err == nil {
		t.Error("one tile on a 2×2 grid: want an error")
	}
	pos[3] = 64
	if _, err := computeSimMap([][]float32{{1}}, vecs, pos, 1, 1); err == nil {
		t.Error("position past the vectors: want an error")
	}
}

func TestGridForAspect(t *testing.T) {
	tests := map[string]struct {
		n          int
		aspect     float64
		rows, cols int
	}{
		"letter portrait 4x4": {16, 0.77, 4, 4},
		"letter portrait 4x3": {12, 0.77, 4, 3},
		"landscape 2x3":       {6, 1.6, 2, 3},
		"wide 1x2":            {2, 2.0, 1, 2},
		"tall 2x1":            {2, 0.5, 2, 1},
		"prime count one row": {5, 4.5, 1, 5},
		"square single split": {4, 1.0, 2, 2},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r, c := gridForAspect(tt.n, tt.aspect)
			if r != tt.rows || c != tt.cols {
				t.Errorf("gridForAspect(%d, %v) = %d×%d; want %d×%d", tt.n, tt.aspect, r, c, tt.rows, tt.cols)
			}
		})
	}
}

func TestHeatColor_Ends(t *testing.T) {
	if got := heatColor(0); got.R != 0 || got.G != 0 || got.B != 4 || got.A != 40 {
		t.Errorf("heatColor(0) = %v; want magma's first stop, alpha 40", got)
	}
	if got := heatColor(1); got.R != 252 || got.G != 253 || got.B != 191 || got.A != 210 {
		t.Errorf("heatColor(1) = %v; want magma's last stop, alpha 210", got)
	}
	if got := heatColor(math.NaN()); got.A == 0 {
		t.Errorf("heatColor(NaN) = %v; want an opaque-enough colour, not a panic", got)
	}
}
