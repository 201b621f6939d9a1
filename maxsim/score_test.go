package maxsim

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

func TestScorer_NumPyGolden(t *testing.T) {
	g := loadGoldens(t)
	forEachPath(t, func(t *testing.T) {
		for i, c := range g.MaxSim {
			q, err := NewQuery(c.Q)
			if err != nil {
				t.Fatal(err)
			}
			page, err := EncodePage(c.D)
			if err != nil {
				t.Fatal(err)
			}
			got := q.Scorer().ScoreHalf(page, len(c.D))
			if !relClose(float64(got), c.Score, 1e-5) {
				t.Errorf("case %d (%d×%d vs %d×%d): score %v, NumPy %v", i, len(c.Q), len(c.Q[0]), len(c.D), len(c.D[0]), got, c.Score)
			}
		}
	})
}

func TestScorer_MatchesFloat64Loop(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	forEachPath(t, func(t *testing.T) {
		for _, dim := range []int{128, 64, 3} {
			for _, n := range []int{1, 7, 8, 23, 24, 25, 31, 33, 48, 200, 1030} {
				for _, nq := range []int{1, 3, 4, 5, 25, 32} {
					qv := randVecs(r, nq, dim)
					q, _ := NewQuery(qv)
					page, _ := EncodePage(randVecs(r, n, dim))
					got := q.Scorer().ScoreHalf(page, n)
					want := Reference(qv, DecodePage(page, n))
					if !relClose(float64(got), want, 1e-5) {
						t.Errorf("dim=%d n=%d nq=%d: score %v, float64 loop %v", dim, n, nq, got, want)
					}
				}
			}
		}
	})
}

func TestScorer_NegativeSimilarities(t *testing.T) {
	// Every best dot product is negative: padding must not inject a 0 into the maximum.
	q, _ := NewQuery([][]float32{{1, 0}, {0, 1}})
	d := [][]float32{{-1, -0.5}, {-0.25, -2}}
	page, _ := EncodePage(d)
	forEachPath(t, func(t *testing.T) {
		if got, want := q.Scorer().ScoreHalf(page, 2), float32(-0.25-0.5); got != want {
			t.Fatalf("score %v, want %v", got, want)
		}
	})
}

func TestScoreAndScoreFloat32_RowMajor(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	qv, dv := randVecs(r, 9, 128), randVecs(r, 77, 128)
	flat := make([]uint16, 0, 77*128)
	for _, v := range dv {
		for _, f := range v {
			flat = append(flat, FromFloat32(f))
		}
	}
	want := Reference(qv, DecodePage(mustEncode(t, dv), 77))
	if got := Score(qv, flat, 128); !relClose(float64(got), want, 1e-5) {
		t.Errorf("Score = %v, want %v", got, want)
	}
	if got, want := ScoreFloat32(qv, dv), Reference(qv, dv); !relClose(float64(got), want, 1e-5) {
		t.Errorf("ScoreFloat32 = %v, want %v", got, want)
	}
	if got := ScoreFloat32(qv, nil); got != 0 {
		t.Errorf("ScoreFloat32 of an empty page = %v, want 0", got)
	}
}

func mustEncode(t *testing.T, v [][]float32) []uint16 {
	t.Helper()
	p, err := EncodePage(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewQuery_Rejects(t *testing.T) {
	for name, q := range map[string][][]float32{
		"empty":    nil,
		"zero dim": {{}},
		"ragged":   {{1, 2}, {1}},
	} {
		if _, err := NewQuery(q); err == nil {
			t.Errorf("%s: NewQuery accepted %v", name, q)
		}
	}
}

func TestTopK_KeepsBestInOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	scores := make([]float32, 500)
	for i := range scores {
		scores[i] = float32(r.IntN(50)) // many ties
	}
	for _, k := range []int{1, 5, 10, 499, 500, 600} {
		top := NewTopK(k)
		for i, s := range scores {
			top.Push(uint64(i), s)
		}
		got := top.Sorted()
		if len(got) != min(k, len(scores)) {
			t.Fatalf("k=%d: %d hits", k, len(got))
		}
		// Reference: the best by score, ties by lower id.
		for rank, h := range got {
			better := 0
			for i, s := range scores {
				if s > h.Score || (s == h.Score && uint64(i) < h.ID) {
					better++
				}
			}
			if better != rank {
				t.Fatalf("k=%d: hit %d (id %d, score %v) has %d better items", k, rank, h.ID, h.Score, better)
			}
		}
	}
}

func TestHamming_MatchesSignDotProducts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	forEachPath(t, func(t *testing.T) {
		for _, dim := range []int{128, 64, 200} {
			for _, n := range []int{1, 7, 8, 9, 16, 17, 100, 1030} {
				qv, dv := randVecs(r, 25, dim), randVecs(r, n, dim)
				q, _ := NewQuery(qv)
				// Independent reference: MaxSim of the ±1 sign vectors.
				sign := func(v []float32) []float32 {
					s := make([]float32, len(v))
					for i, f := range v {
						s[i] = -1
						if f > 0 {
							s[i] = 1
						}
					}
					return s
				}
				var qs, ds [][]float32
				for _, v := range qv {
					qs = append(qs, sign(v))
				}
				for _, v := range dv {
					ds = append(ds, sign(v))
				}
				want := int(math.Round(Reference(qs, ds)))
				codes := PageSignCodes(dv)
				h := q.HammingScorer()
				if got := h.Score(codes, n); got != want {
					t.Errorf("dim=%d n=%d: Score %d, want %d", dim, n, got, want)
				}
				packed := PackCodes(codes, n, Words(dim))
				if got := h.ScorePacked(packed); got != want {
					t.Errorf("dim=%d n=%d: ScorePacked %d, want %d", dim, n, got, want)
				}
				// The stored form, at every alignment an index file may give it.
				for shift := 0; shift < 8; shift++ {
					buf := make([]byte, shift+PackedBytes(n, Words(dim)))
					for i, w := range packed.Words {
						binary.LittleEndian.PutUint64(buf[shift+8*i:], w)
					}
					if got := h.ScorePackedBytes(n, buf[shift:]); got != want {
						t.Errorf("dim=%d n=%d shift=%d: ScorePackedBytes %d, want %d", dim, n, shift, got, want)
					}
				}
			}
		}
	})
}
