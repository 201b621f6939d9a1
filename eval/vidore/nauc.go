package vidore

import (
	"math"
	"slices"
)

// This file reproduces mteb's nAUC (normalised area under the abstention curve) with NumPy's arithmetic:
// sums use NumPy's pairwise summation, sorts are stable, rounding is half to even. Explicit float64
// conversions keep the compiler from fusing a multiply and an add, which NumPy never does.

// pairwiseSum is NumPy's pairwise summation of a float64 array (numpy loops_utils.h, DOUBLE_pairwise_sum):
// plain loop under 8 elements, 8 accumulators up to 128 elements, halves (multiple of 8) beyond.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		res := math.Copysign(0, -1)
		for _, v := range a {
			res += v
		}
		return res
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
	}
}

// npSum is np.add.reduce over a 1-D float64 array: the identity 0.0 plus the pairwise sum.
func npSum(a []float64) float64 { return 0.0 + pairwiseSum(a) }

// npMean is ndarray.mean().
func npMean(a []float64) float64 { return npSum(a) / float64(len(a)) }

// npStd is np.std (population, ddof 0).
func npStd(a []float64) float64 {
	mean := npMean(a)
	sq := make([]float64, len(a))
	for i, v := range a {
		x := v - mean
		sq[i] = float64(x * x)
	}
	return math.Sqrt(npSum(sq) / float64(len(a)))
}

// confidenceScores is mteb's confidence_scores for one query: the highest score, the population standard
// deviation of all scores (in insertion order), and the gap between the two highest (0 for a single score).
func confidenceScores(docs []Scored) (max, std, diff1 float64) {
	if len(docs) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	s := make([]float64, len(docs))
	for i, d := range docs {
		s[i] = d.Score
	}
	std = npStd(s)
	sorted := slices.Clone(s)
	slices.SortFunc(sorted, func(a, b float64) int { return npCompare(b, a) })
	max = sorted[0]
	if len(sorted) > 1 {
		diff1 = sorted[0] - sorted[1]
	}
	return max, std, diff1
}

// npCompare orders floats as NumPy's sorts do: NaN after every number.
func npCompare(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// argsortStable is np.argsort(x, kind="stable").
func argsortStable(x []float64) []int {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return npCompare(x[a], x[b]) })
	return idx
}

// abstentionRates is np.linspace(0, 1, 11)[:-1]: i*0.1 (so 0.30000000000000004 at i = 3).
func abstentionRates() []float64 {
	r := make([]float64, 10)
	for i := range r {
		r[i] = float64(float64(i)*0.1) + 0.0
	}
	return r
}

// abstentionCurve is mteb's abstention_curve: the mean metric over the instances kept after abstaining on
// the round(rate·n) least confident ones (at most n−1), for each rate.
func abstentionCurve(conf, metric, rates []float64) []float64 {
	order := argsortStable(conf)
	n := len(conf)
	curve := make([]float64, len(rates))
	kept := make([]float64, 0, n)
	for i, rate := range rates {
		abst := int(math.RoundToEven(float64(rate * float64(n))))
		abst = min(abst, n-1)
		kept = kept[:0]
		for _, j := range order[abst:] {
			kept = append(kept, metric[j])
		}
		curve[i] = npMean(kept)
	}
	return curve
}

// trapezoid is sklearn's auc for increasing x: np.trapz(y, x) = sum(diff(x) * (y[1:] + y[:-1]) / 2).
func trapezoid(x, y []float64) float64 {
	terms := make([]float64, len(x)-1)
	for i := range terms {
		d := x[i+1] - x[i]
		terms[i] = float64(d*(y[i+1]+y[i])) / 2.0
	}
	return npSum(terms)
}

// nAUC is mteb's nAUC: the area under the abstention curve of the confidence scores, scaled so that the
// flat curve (no useful confidence) gives 0 and the oracle curve (metric as its own confidence) gives 1.
// It is NaN when the oracle and flat areas are equal.
func nAUC(conf, metric []float64) float64 {
	rates := abstentionRates()
	abst := trapezoid(rates, abstentionCurve(conf, metric, rates))
	oracleCurve := abstentionCurve(metric, metric, rates)
	oracle := trapezoid(rates, oracleCurve)
	flat := float64(oracleCurve[0] * (rates[len(rates)-1] - rates[0]))
	if oracle == flat {
		return math.NaN()
	}
	return (abst - flat) / (oracle - flat)
}
