package maxsim

import (
	"errors"
	"fmt"
	"math"

	"github.com/viterin/vek/vek32"
)

// ErrDim is returned when vectors do not share one positive dimension.
var ErrDim = errors.New("maxsim: vectors must share one positive dimension")

// Query is a multi-vector query prepared for scoring: its vectors as one row-major float32 matrix and
// their sign codes. A Query is read-only after [NewQuery] and may be shared by goroutines.
type Query struct {
	N, Dim int
	Vecs   []float32 // N×Dim, row-major
	Codes  []uint64  // N×Words(Dim) sign codes, see [SignCodes]
}

// NewQuery copies q (at least one vector, all of one dimension) into a [Query].
func NewQuery(q [][]float32) (*Query, error) {
	if len(q) == 0 || len(q[0]) == 0 {
		return nil, fmt.Errorf("empty query: %w", ErrDim)
	}
	dim := len(q[0])
	vecs := make([]float32, 0, len(q)*dim)
	for i, v := range q {
		if len(v) != dim {
			return nil, fmt.Errorf("query vector %d has %d dimensions, vector 0 has %d: %w", i, len(v), dim, ErrDim)
		}
		vecs = append(vecs, v...)
	}
	return &Query{N: len(q), Dim: dim, Vecs: vecs, Codes: SignCodes(vecs, dim)}, nil
}

// Scorer scores pages against one [Query] with reusable buffers. It is not safe for concurrent use:
// make one per goroutine with [Query.Scorer].
type Scorer struct {
	q    *Query
	qpad []float32 // query rows padded for the blocked kernel
	page []float32 // widened page (dimension-major, or packed panels for the blocked kernel)
	sim  []float32 // similarity block
}

// Scorer returns a new [Scorer] for q.
func (q *Query) Scorer() *Scorer {
	s := &Scorer{q: q}
	if useBlocked {
		s.qpad = padRows(q.Vecs, q.N, q.Dim)
	}
	return s
}

// ScoreHalf returns MaxSim of the query against a page of n vectors stored as half-precision values in
// dimension-major order (len(doc) == n*Dim, as written by [EncodePage]). A page with no vectors scores 0.
func (s *Scorer) ScoreHalf(doc []uint16, n int) float32 {
	if n == 0 {
		return 0
	}
	if len(doc) != n*s.q.Dim {
		panic(fmt.Sprintf("maxsim: page of %d values is not %d vectors of %d dimensions", len(doc), n, s.q.Dim))
	}
	if useBlocked {
		return s.scoreBlocked(s.packHalf(doc, n))
	}
	s.page = grow(s.page, len(doc))
	Decode(s.page, doc)
	return s.scoreVek(s.page, n)
}

// ScoreFloat is [Scorer.ScoreHalf] for a page already widened to float32 (dimension-major, n*Dim values).
func (s *Scorer) ScoreFloat(docT []float32, n int) float32 {
	if n == 0 {
		return 0
	}
	if len(docT) != n*s.q.Dim {
		panic(fmt.Sprintf("maxsim: page of %d values is not %d vectors of %d dimensions", len(docT), n, s.q.Dim))
	}
	if useBlocked {
		return s.scoreBlocked(s.packFloat(docT, n))
	}
	return s.scoreVek(docT, n)
}

// scoreVek computes Q·Dᵀ three query rows at a time with vek's MatMul (three rows keep vek on its
// single-threaded path: the caller already runs one Scorer per core) and reduces each row with vek's Max.
func (s *Scorer) scoreVek(docT []float32, n int) float32 {
	const rows = 3
	q, dim := s.q, s.q.Dim
	s.sim = grow(s.sim, rows*n)
	var total float32
	for i := 0; i < q.N; i += rows {
		r := min(rows, q.N-i)
		sim := vek32.MatMul_Into(s.sim[:r*n], q.Vecs[i*dim:(i+r)*dim], docT[:dim*n], dim)
		for j := 0; j < r; j++ {
			total += vek32.Max(sim[j*n : (j+1)*n])
		}
	}
	return total
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// Score returns MaxSim of q against doc, n×dim half-precision values in row-major order (one vector
// after another). It allocates; the store uses [Scorer] on dimension-major pages instead.
func Score(q [][]float32, doc []uint16, dim int) float32 {
	if dim <= 0 || len(doc)%dim != 0 {
		panic(fmt.Sprintf("maxsim.Score: %d values are not whole vectors of %d dimensions", len(doc), dim))
	}
	vecs := make([]float32, len(doc))
	Decode(vecs, doc)
	return ScoreFloat32(q, rows(vecs, dim))
}

// ScoreFloat32 returns MaxSim of q against the float32 vectors d. Documents with no vectors score 0.
func ScoreFloat32(q, d [][]float32) float32 {
	if len(d) == 0 || len(q) == 0 {
		return 0
	}
	query, err := NewQuery(q)
	if err != nil {
		panic(err)
	}
	docT := make([]float32, 0, len(d)*query.Dim)
	for k := 0; k < query.Dim; k++ {
		for _, v := range d {
			docT = append(docT, v[k])
		}
	}
	return query.Scorer().ScoreFloat(docT, len(d))
}

// Reference returns MaxSim computed with a plain float64 loop, for tests and checks.
func Reference(q, d [][]float32) float64 {
	var total float64
	for _, qv := range q {
		best := math.Inf(-1)
		for _, dv := range d {
			var dot float64
			for k := range qv {
				dot += float64(qv[k]) * float64(dv[k])
			}
			best = math.Max(best, dot)
		}
		if len(d) > 0 {
			total += best
		}
	}
	return total
}

func rows(flat []float32, dim int) [][]float32 {
	out := make([][]float32, len(flat)/dim)
	for i := range out {
		out[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out
}
