package vidore

import (
	"cmp"
	"fmt"
	"slices"
)

// Scored is one document of a query's run with its score.
type Scored struct {
	DocID string
	Score float64
}

// QueryRun is the run of one query: its documents in insertion order (the order of first occurrence in the
// passage pool), which is the tie order of MRR.
type QueryRun struct {
	QueryID string
	Docs    []Scored
}

// Run holds the runs of all queries, in query order (the order metrics are averaged in).
type Run []QueryRun

// BuildRun turns a score matrix into a run as vidore-benchmark does. scores[q][p] is the score of
// ds.Queries[q] against ds.Passages[p]. For each query, the first passage row keeps its raw score; every later
// row updates its document with max(previous or 0, score), so repeated documents keep their best score and,
// as in the reference, a negative score becomes 0 for every document except the one of the first row.
// With ds.IgnoreIdenticalIDs, a document whose id equals the query id is dropped.
func BuildRun(ds *Dataset, scores [][]float64) (Run, error) {
	if len(scores) != len(ds.Queries) {
		return nil, fmt.Errorf("build run: %d score rows for %d queries", len(scores), len(ds.Queries))
	}
	run := make(Run, len(ds.Queries))
	for qi, q := range ds.Queries {
		row := scores[qi]
		if len(row) != len(ds.Passages) {
			return nil, fmt.Errorf("build run: query %s has %d scores for %d passages", q.RunID, len(row), len(ds.Passages))
		}
		at := make(map[string]int, len(ds.Passages))
		docs := make([]Scored, 0, len(ds.Passages))
		for pi, p := range ds.Passages {
			s := row[pi]
			i, ok := at[p.DocID]
			switch {
			case pi == 0:
				at[p.DocID] = len(docs)
				docs = append(docs, Scored{p.DocID, s})
			case ok:
				docs[i].Score = pyMax(docs[i].Score, s)
			default:
				at[p.DocID] = len(docs)
				docs = append(docs, Scored{p.DocID, pyMax(0, s)})
			}
		}
		if ds.IgnoreIdenticalIDs {
			docs = slices.DeleteFunc(docs, func(d Scored) bool { return d.DocID == q.ID })
		}
		run[qi] = QueryRun{QueryID: q.ID, Docs: docs}
	}
	return run, nil
}

// pyMax is Python's max(a, b): a unless b is greater.
func pyMax(a, b float64) float64 {
	if b > a {
		return b
	}
	return a
}

// TrecRanking returns the documents of qr in trec_eval's order: scores rounded to float32 (trec_eval stores
// them in a C float), higher first, ties broken by document id in descending byte order.
func (qr QueryRun) TrecRanking() []Scored {
	r := slices.Clone(qr.Docs)
	slices.SortFunc(r, func(a, b Scored) int {
		if c := cmp.Compare(float32(b.Score), float32(a.Score)); c != 0 {
			return c
		}
		return cmp.Compare(b.DocID, a.DocID)
	})
	return r
}

// mrrRanking returns the documents of qr in the order of mteb's MRR: float64 scores, higher first, ties in
// insertion order (Python's stable sort).
func (qr QueryRun) mrrRanking() []Scored {
	r := slices.Clone(qr.Docs)
	slices.SortStableFunc(r, func(a, b Scored) int { return cmp.Compare(b.Score, a.Score) })
	return r
}
