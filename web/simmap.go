package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // preview images, for their aspect ratio
	_ "image/png"
	"math"
)

// PatchSide is the side of one tile's grid of image tokens: SmolVLM turns a 512×512 tile into 32×32 patches of
// 16 pixels and pixel-shuffles them 4×4 into 8×8 = 64 tokens, row-major.
const PatchSide = 8

// SimMap is the similarity map of a page for a query: for each image patch, the best dot product between its
// vector and any of the query's vectors (colpali-engine's interpretability maps, reduced over the query tokens
// with max as its issue #110 recommends). Values cover the page row-major, Rows × Cols patches, tile by tile.
type SimMap struct {
	DocID    string    `json:"doc_id"`
	Page     int       `json:"page"`
	Query    string    `json:"query"`
	TileRows int       `json:"tile_rows"` // tiles down the page (1 when the page was not split)
	TileCols int       `json:"tile_cols"` // tiles across the page
	Rows     int       `json:"rows"`      // TileRows × 8
	Cols     int       `json:"cols"`      // TileCols × 8
	Values   []float32 `json:"values"`    // Rows × Cols, row-major
	Min      float32   `json:"min"`
	Max      float32   `json:"max"`
	// Global is the map of the downscaled whole-page tile that follows the tiles of a split page (8 × 8).
	Global []float32 `json:"global,omitempty"`
}

// errNoLayout says that a page's stored vectors cannot be laid out on the page.
var errNoLayout = errors.New("the page's image tokens do not form 8×8 tiles")

func (s *Server) simMap(ctx context.Context, id string, page int, query string) (*SimMap, error) {
	q, err := checkText("query", query)
	if err != nil {
		return nil, badInput("%v (the q parameter)", err)
	}
	vecs, pos, err := s.opt.Store.PageVectors(id, page)
	if err != nil {
		return nil, err
	}
	qv, err := s.opt.Embedder.EmbedQuery(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("embed the query: %w", err)
	}
	rows, cols, err := s.pageLayout(id, page, len(pos))
	if err != nil {
		return nil, err
	}
	m, err := computeSimMap(qv, vecs, pos, rows, cols)
	if err != nil {
		return nil, fmt.Errorf("page %d of %s: %w", page, id, err)
	}
	m.DocID, m.Page, m.Query = id, page, q
	return m, nil
}

// pageLayout finds the tile grid of a page with n image tokens.
func (s *Server) pageLayout(id string, page, n int) (rows, cols int, err error) {
	const perTile = PatchSide * PatchSide
	if n == 0 || n%perTile != 0 {
		return 0, 0, fmt.Errorf("page %d of %s has %d image tokens: %w; re-index it with this version of colsmol", page, id, n, errNoLayout)
	}
	tiles := n / perTile
	if tiles == 1 {
		return 1, 1, nil
	}
	if pl, ok := s.opt.Store.(PageLayouter); ok {
		r, c, err := pl.PageLayout(id, page)
		if err != nil {
			return 0, 0, err
		}
		if r*c != tiles-1 {
			return 0, 0, fmt.Errorf("page %d of %s: a %d×%d grid does not match %d tiles: %w", page, id, r, c, tiles-1, errNoLayout)
		}
		return r, c, nil
	}
	img, err := s.opt.Store.PageImage(id, page, false)
	if err != nil {
		return 0, 0, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width == 0 || cfg.Height == 0 {
		return 0, 0, fmt.Errorf("read the size of page %d of %s: %v", page, id, err)
	}
	r, c := gridForAspect(tiles-1, float64(cfg.Width)/float64(cfg.Height))
	return r, c, nil
}

// gridForAspect picks the rows × cols = n grid whose shape is closest to the page's width/height ratio (the
// image processor cuts a page into ceil(h/512) × ceil(w/512) tiles after scaling it, so the grid follows it).
func gridForAspect(n int, aspect float64) (rows, cols int) {
	best := math.Inf(1)
	for r := 1; r <= n; r++ {
		if n%r != 0 {
			continue
		}
		c := n / r
		if d := math.Abs(math.Log(float64(c)/float64(r)) - math.Log(aspect)); d < best {
			best, rows, cols = d, r, c
		}
	}
	return rows, cols
}

// computeSimMap scores every image token against the query and lays the scores out on the page.
func computeSimMap(q, vecs [][]float32, pos []int, tileRows, tileCols int) (*SimMap, error) {
	const perTile = PatchSide * PatchSide
	grid := tileRows * tileCols
	tiles := len(pos) / perTile
	if tiles != grid && tiles != grid+1 {
		return nil, fmt.Errorf("%d tiles do not fit a %d×%d grid: %w", tiles, tileRows, tileCols, errNoLayout)
	}
	best := make([]float32, len(pos))
	for i, p := range pos {
		if p < 0 || p >= len(vecs) {
			return nil, fmt.Errorf("image token position %d is outside the %d vectors: %w", p, len(vecs), errNoLayout)
		}
		best[i] = maxDot(q, vecs[p])
		if math.IsNaN(float64(best[i])) || math.IsInf(float64(best[i]), 0) {
			best[i] = 0 // an empty query or a damaged vector; JSON cannot carry NaN or infinities
		}
	}
	m := &SimMap{TileRows: tileRows, TileCols: tileCols, Rows: tileRows * PatchSide, Cols: tileCols * PatchSide}
	m.Values = make([]float32, m.Rows*m.Cols)
	for t := 0; t < grid; t++ {
		tr, tc := t/tileCols, t%tileCols
		for j := 0; j < perTile; j++ {
			r, c := tr*PatchSide+j/PatchSide, tc*PatchSide+j%PatchSide
			m.Values[r*m.Cols+c] = best[t*perTile+j]
		}
	}
	if tiles == grid+1 && grid > 1 {
		m.Global = best[grid*perTile:]
	}
	m.Min, m.Max = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range m.Values {
		m.Min, m.Max = min(m.Min, v), max(m.Max, v)
	}
	return m, nil
}

// maxDot is the best dot product between v and any query vector.
func maxDot(q [][]float32, v []float32) float32 {
	best := float32(math.Inf(-1))
	for _, qv := range q {
		var s float32
		for i := range min(len(qv), len(v)) {
			s += qv[i] * v[i]
		}
		best = max(best, s)
	}
	return best
}

// magma holds nine stops of matplotlib's magma colour map, the default of colpali-engine's plots.
var magma = [9][3]float64{{0, 0, 4}, {28, 16, 68}, {79, 18, 123}, {129, 37, 129}, {181, 54, 122},
	{229, 80, 100}, {251, 135, 97}, {254, 194, 135}, {252, 253, 191}}

// heatColor maps t in [0,1] to magma, with opacity growing with t so that the page shows through cold patches.
func heatColor(t float64) color.NRGBA {
	if math.IsNaN(t) {
		t = 0
	}
	t = min(max(t, 0), 1)
	x := t * 8
	i := min(int(x), 7)
	f := x - float64(i)
	var c [3]uint8
	for k := range 3 {
		c[k] = uint8(math.Round(magma[i][k]*(1-f) + magma[i+1][k]*f))
	}
	return color.NRGBA{R: c[0], G: c[1], B: c[2], A: uint8(math.Round(40 + 170*t))}
}

// heatImage draws the map one pixel per patch; browsers smooth it when they scale it over the page.
func (m *SimMap) heatImage() image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, m.Cols, m.Rows))
	span := float64(m.Max - m.Min)
	for i, v := range m.Values {
		t := 0.0
		if span > 0 {
			t = float64(v-m.Min) / span
		}
		img.SetNRGBA(i%m.Cols, i/m.Cols, heatColor(t))
	}
	return img
}
