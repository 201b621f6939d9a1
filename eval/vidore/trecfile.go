package vidore

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// RunTag is the last column of the TREC run files colsmol writes.
const RunTag = "colsmol"

// CheckTrecIDs reports ids that a TREC file cannot hold (empty or containing white space): query RunIDs
// and document ids.
func CheckTrecIDs(ds *Dataset) error {
	for _, q := range ds.Queries {
		if !trecSafe(q.RunID) {
			return fmt.Errorf("dataset %s: query id %q cannot be written to a TREC file (empty or contains spaces)", ds.Name, q.RunID)
		}
	}
	for _, p := range ds.Passages {
		if !trecSafe(p.DocID) {
			return fmt.Errorf("dataset %s: document id %q cannot be written to a TREC file (empty or contains spaces)", ds.Name, p.DocID)
		}
	}
	return nil
}

func trecSafe(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// WriteRun writes run in the TREC run format, one line per ranked page: "QID Q0 DOCID RANK SCORE colsmol",
// the pages of each query in trec_eval's order (see QueryRun.TrecRanking), at most depth per query
// (0: all). Query ids are the RunIDs of queries, which must be in the order of run. Scores are written
// in the shortest form that reads back as the same float32, the precision trec_eval ranks with.
func WriteRun(w io.Writer, queries []Query, run Run, depth int) error {
	if len(queries) != len(run) {
		return fmt.Errorf("write run: %d queries for %d query runs", len(queries), len(run))
	}
	bw := bufio.NewWriter(w)
	for i, qr := range run {
		ranked := qr.TrecRanking()
		if depth > 0 && len(ranked) > depth {
			ranked = ranked[:depth]
		}
		for r, d := range ranked {
			fmt.Fprintf(bw, "%s Q0 %s %d %s %s\n", queries[i].RunID, d.DocID, r+1, strconv.FormatFloat(d.Score, 'g', -1, 32), RunTag)
		}
	}
	return bw.Flush()
}

// WriteQrels writes the judgments of ds's queries in the TREC qrels format, "QID 0 DOCID GRADE", queries in
// evaluation order and documents in byte order, with the same query ids as WriteRun.
func WriteQrels(w io.Writer, ds *Dataset) error {
	bw := bufio.NewWriter(w)
	for _, q := range ds.Queries {
		judged := ds.Qrels[q.ID]
		docs := make([]string, 0, len(judged))
		for d := range judged {
			docs = append(docs, d)
		}
		slices.Sort(docs)
		for _, d := range docs {
			fmt.Fprintf(bw, "%s 0 %s %d\n", q.RunID, d, judged[d])
		}
	}
	return bw.Flush()
}
