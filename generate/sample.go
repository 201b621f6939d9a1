package generate

import (
	"math"
	"math/rand"
	"sort"
)

// argmax returns the index of the largest logit; on ties the lowest index wins (as transformers.js's greedy
// sampler does).
func argmax(logits []float32) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return best
}

// pick chooses the next token from one row of logits: the argmax when p.Temperature is 0, else a draw from
// softmax(logits / Temperature) restricted to the smallest set of most likely tokens whose probability
// reaches p.TopP (nucleus sampling; TopP 0 or ≥ 1 keeps every token).
func pick(logits []float32, p Params, rng *rand.Rand) int64 {
	if p.Temperature <= 0 {
		return int64(argmax(logits))
	}
	type cand struct {
		id int
		w  float64 // unnormalised probability
	}
	maxL := float64(logits[argmax(logits)])
	cs := make([]cand, len(logits))
	var sum float64
	for i, v := range logits {
		w := math.Exp((float64(v) - maxL) / p.Temperature)
		cs[i] = cand{i, w}
		sum += w
	}
	keep := len(cs)
	if p.TopP > 0 && p.TopP < 1 {
		// Stable, so that equally likely tokens keep their id order and a seed always gives the same draw.
		sort.SliceStable(cs, func(a, b int) bool { return cs[a].w > cs[b].w })
		acc := 0.0
		for i, c := range cs {
			acc += c.w / sum
			if acc >= p.TopP {
				keep = i + 1
				break
			}
		}
	}
	var kept float64
	for _, c := range cs[:keep] {
		kept += c.w
	}
	r := rng.Float64() * kept
	for _, c := range cs[:keep] {
		r -= c.w
		if r < 0 {
			return int64(c.id)
		}
	}
	return int64(cs[keep-1].id)
}
