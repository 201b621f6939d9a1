package vidore

import (
	"math"
	"slices"
	"strconv"
)

// KValues are the cutoffs of vidore-benchmark ≥ 5 (CustomRetrievalEvaluator).
var KValues = []int{1, 3, 5, 10, 20, 50, 100}

// Metric is one named value of a results file. NaN is written as null.
type Metric struct {
	Name  string
	Value float64
}

// Metrics are a dataset's metrics in the key order of vidore-benchmark's results files.
type Metrics []Metric

// Get returns the value of the metric called name.
func (m Metrics) Get(name string) (float64, bool) {
	for _, x := range m {
		if x.Name == name {
			return x.Value, true
		}
	}
	return 0, false
}

// queryMeasures are trec_eval's per-query values at each cutoff of KValues.
type queryMeasures struct {
	ndcg, ap, recall, precision []float64
}

// trecMeasures computes trec_eval's ndcg_cut, map_cut, recall and P at the cutoffs ks for one query, from its
// judgments and its run ranked by TrecRanking. All ranked documents count (no depth limit); relevance
// level 1; unjudged documents have no gain.
func trecMeasures(judged map[string]int, ranked []Scored, ks []int) queryMeasures {
	m := queryMeasures{
		ndcg: make([]float64, len(ks)), ap: make([]float64, len(ks)),
		recall: make([]float64, len(ks)), precision: make([]float64, len(ks)),
	}
	numRel := 0
	var gains []int
	for _, rel := range judged {
		if rel >= 1 {
			numRel++
		}
		if rel > 0 {
			gains = append(gains, rel)
		}
	}
	slices.SortFunc(gains, func(a, b int) int { return b - a })

	for ki, k := range ks {
		dcg, sumPrec, relSoFar := 0.0, 0.0, 0
		for i := 0; i < len(ranked) && i < k; i++ {
			rel, ok := judged[ranked[i].DocID]
			if !ok {
				continue
			}
			if rel > 0 {
				dcg += float64(rel) / math.Log2(float64(i+2))
			}
			if rel >= 1 {
				relSoFar++
				sumPrec += float64(relSoFar) / float64(i+1)
			}
		}
		ideal := 0.0
		for i := 0; i < len(gains) && i < k; i++ {
			ideal += float64(gains[i]) / math.Log2(float64(i+2))
		}
		if ideal > 0 {
			dcg /= ideal
		}
		m.ndcg[ki] = dcg
		if numRel > 0 {
			m.ap[ki] = sumPrec / float64(numRel)
			m.recall[ki] = float64(relSoFar) / float64(numRel)
		}
		m.precision[ki] = float64(relSoFar) / float64(k)
	}
	return m
}

// Evaluate computes the metrics of vidore-benchmark's compute_retrieval_scores for a run:
//   - ndcg_at_k, map_at_k, recall_at_k, precision_at_k: trec_eval semantics (see trecMeasures and
//     TrecRanking) over the queries present in both run and qrels, averaged in run order and rounded to
//     5 decimals as Python's round(x, 5);
//   - mrr_at_k: mteb's MRR over all queries of the run, float64 scores, ties in insertion order, not rounded;
//   - naucs_at_k_{max,std,diff1}: mteb's nAUC of the per-query precision@k (the NDCG, MAP and recall nAUCs
//     are overwritten by a key collision in vidore-benchmark), NaN when undefined.
func Evaluate(qrels Qrels, run Run) Metrics {
	ks := KValues
	var per []queryMeasures
	var scoredQueries []int
	for qi, qr := range run {
		judged, ok := qrels[qr.QueryID]
		if !ok {
			continue
		}
		per = append(per, trecMeasures(judged, qr.TrecRanking(), ks))
		scoredQueries = append(scoredQueries, qi)
	}
	out := make(Metrics, 0, 8*len(ks))
	for _, part := range []struct {
		name string
		get  func(queryMeasures) []float64
	}{
		{"ndcg", func(m queryMeasures) []float64 { return m.ndcg }},
		{"map", func(m queryMeasures) []float64 { return m.ap }},
		{"recall", func(m queryMeasures) []float64 { return m.recall }},
		{"precision", func(m queryMeasures) []float64 { return m.precision }},
	} {
		for ki, k := range ks {
			v := math.NaN()
			if len(per) > 0 {
				sum := 0.0
				for _, m := range per {
					sum += part.get(m)[ki]
				}
				v = Round5(sum / float64(len(per)))
			}
			out = append(out, Metric{part.name + "_at_" + strconv.Itoa(k), v})
		}
	}
	mrr := meanReciprocalRank(qrels, run, ks)
	for ki, k := range ks {
		out = append(out, Metric{"mrr_at_" + strconv.Itoa(k), mrr[ki]})
	}
	out = append(out, precisionNAUCs(run, scoredQueries, per, ks)...)
	return out
}

// Round5 rounds x to 5 decimals as Python's round(x, 5) does: correctly rounded from the exact binary
// value, half to even on exact ties (round(0.015625, 5) = 0.01562).
func Round5(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 5, 64), 64)
	return v
}

// meanReciprocalRank is mteb's mrr (output "all") averaged as vidore-benchmark does: for each query of the
// run, the reciprocal rank of the first document with a positive judgment among the top k of the
// float64-sorted run (stable: ties in insertion order), 0 when none; the plain mean over the run's queries.
func meanReciprocalRank(qrels Qrels, run Run, ks []int) []float64 {
	out := make([]float64, len(ks))
	if len(run) == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	for _, qr := range run {
		ranked := qr.mrrRanking()
		judged := qrels[qr.QueryID]
		for ki, k := range ks {
			for i := 0; i < len(ranked) && i < k; i++ {
				if judged[ranked[i].DocID] > 0 {
					out[ki] += 1.0 / float64(i+1)
					break
				}
			}
		}
	}
	for i := range out {
		out[i] /= float64(len(run))
	}
	return out
}

// precisionNAUCs computes the naucs_at_k_{max,std,diff1} entries: for each k, the nAUC of the per-query
// precision@k against three confidence scores of each query's run (its maximum score, the population
// standard deviation of its scores, and the gap between its two best scores).
func precisionNAUCs(run Run, scoredQueries []int, per []queryMeasures, ks []int) Metrics {
	conf := [3][]float64{}
	for _, qi := range scoredQueries {
		mx, sd, d1 := confidenceScores(run[qi].Docs)
		conf[0] = append(conf[0], mx)
		conf[1] = append(conf[1], sd)
		conf[2] = append(conf[2], d1)
	}
	names := [3]string{"max", "std", "diff1"}
	var out Metrics
	for ki, k := range ks {
		p := make([]float64, len(per))
		for i, m := range per {
			p[i] = m.precision[ki]
		}
		for f := range names {
			v := math.NaN()
			if len(p) > 0 {
				v = nAUC(conf[f], p)
			}
			out = append(out, Metric{"naucs_at_" + strconv.Itoa(k) + "_" + names[f], v})
		}
	}
	return out
}
