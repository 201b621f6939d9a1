package generate

import (
	"context"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// logitsOf returns logits whose softmax is probs (log probabilities).
func logitsOf(probs ...float64) []float32 {
	l := make([]float32, len(probs))
	for i, p := range probs {
		l[i] = float32(math.Log(p))
	}
	return l
}

// frequencies draws n tokens and returns how often each id came out.
func frequencies(logits []float32, p Params, n int) []float64 {
	rng := rand.New(rand.NewSource(p.Seed))
	f := make([]float64, len(logits))
	for i := 0; i < n; i++ {
		f[pick(logits, p, rng)] += 1 / float64(n)
	}
	return f
}

func TestPick(t *testing.T) {
	probs := logitsOf(0.2, 0.5, 0.3) // sorted by probability: id 1 (0.5), id 2 (0.3), id 0 (0.2)
	const n = 20000
	// With 20,000 draws the standard error of a frequency is below 0.0036; 0.015 is over 4 of them.
	const tol = 0.015
	tests := []struct {
		name string
		p    Params
		want []float64
	}{
		{"greedy", Params{}, []float64{0, 1, 0}},
		{"temperature 1 follows the softmax", Params{Temperature: 1, Seed: 1}, []float64{0.2, 0.5, 0.3}},
		// Temperature 0.5 squares the probabilities: 0.04, 0.25, 0.09 over 0.38.
		{"temperature 0.5 sharpens", Params{Temperature: 0.5, Seed: 2}, []float64{0.04 / 0.38, 0.25 / 0.38, 0.09 / 0.38}},
		// Temperature 1000 flattens to nearly uniform.
		{"high temperature flattens", Params{Temperature: 1000, Seed: 3}, []float64{1. / 3, 1. / 3, 1. / 3}},
		{"top-p below the top probability keeps only the top token", Params{Temperature: 1, TopP: 0.4, Seed: 4}, []float64{0, 1, 0}},
		// 0.5 < 0.75 ≤ 0.5+0.3: ids 1 and 2 remain, renormalised to 0.625 and 0.375.
		{"top-p 0.75 keeps the two best", Params{Temperature: 1, TopP: 0.75, Seed: 5}, []float64{0, 0.625, 0.375}},
		{"top-p 1 keeps all", Params{Temperature: 1, TopP: 1, Seed: 6}, []float64{0.2, 0.5, 0.3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := frequencies(probs, tc.p, n)
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > tol {
					t.Errorf("id %d drawn %.4f of the time, want %.4f (all: %.4f)", i, got[i], tc.want[i], got)
				}
				if tc.want[i] == 0 && got[i] != 0 {
					t.Errorf("id %d drawn although it is outside the kept set", i)
				}
			}
		})
	}
}

// TestPickSeed checks that a seed fixes the draws and that different seeds give different draws.
func TestPickSeed(t *testing.T) {
	logits := make([]float32, 1000) // uniform: every draw is a fresh choice among 1000
	draw := func(seed int64) []int64 {
		rng := rand.New(rand.NewSource(seed))
		out := make([]int64, 20)
		for i := range out {
			out[i] = pick(logits, Params{Temperature: 1, TopP: 0.9, Seed: seed}, rng)
		}
		return out
	}
	if a, b := draw(7), draw(7); !slices.Equal(a, b) {
		t.Errorf("seed 7 gave %v and then %v", a, b)
	}
	if a, b := draw(7), draw(8); slices.Equal(a, b) {
		t.Errorf("seeds 7 and 8 gave the same draws %v", a)
	}
}

// TestSamplingIsReproducible checks seeded sampling end to end on the tiny generator.
func TestSamplingIsReproducible(t *testing.T) {
	g := openTiny(t, Options{})
	in := chatInputs(t, g, "What is shown?", "wide-4x1.png")
	run := func(p Params) []int64 {
		res, err := g.Generate(context.Background(), in, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Tokens
	}
	p := Params{MaxNewTokens: 8, Temperature: 1.5, TopP: 0.95, Seed: 42}
	a, b := run(p), run(p)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different tokens: %v and %v", a, b)
	}
	p.Seed = 43
	if c := run(p); slices.Equal(a, c) {
		t.Errorf("seeds 42 and 43 gave the same tokens %v", a)
	}
	greedy := run(Params{MaxNewTokens: 8})
	if slices.Equal(a, greedy) {
		t.Errorf("sampling at temperature 1.5 gave exactly the greedy tokens %v", a)
	}
}
