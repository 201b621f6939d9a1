package vidore

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The cases of this file are the verified test vectors of research/vidore.md §4.9: the expected values come
// from trec_eval v9.0.8 (4 decimals as it prints them) and, for MRR, from the mteb definition by hand.

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func docIDs(r []Scored) string {
	ids := make([]string, len(r))
	for i, d := range r {
		ids[i] = d.DocID
	}
	return strings.Join(ids, ",")
}

func TestTrecMeasures_SpecVectors(t *testing.T) {
	type want struct {
		measure string // ndcg, P
		k       int
		value   float64
	}
	cases := []struct {
		name   string
		judged map[string]int
		docs   []Scored
		order  string
		want   []want
	}{
		{
			name:   "all tied scores rank by docno descending",
			judged: map[string]int{"a": 1},
			docs:   []Scored{{"a", 1}, {"b", 1}, {"c", 1}},
			order:  "c,b,a",
			want:   []want{{"P", 1, 0}, {"ndcg", 3, 0.5}},
		},
		{
			name:   "scores collapse to one float32",
			judged: map[string]int{"10": 1},
			docs:   []Scored{{"10", 1.00000001}, {"9", 1.00000002}},
			order:  "9,10",
			want:   []want{{"ndcg", 3, 0.6309}},
		},
		{
			name:   "graded relevance is a linear gain",
			judged: map[string]int{"x": 2, "y": 1},
			docs:   []Scored{{"x", 0.1}, {"y", 0.9}, {"z", 0.5}},
			order:  "y,z,x",
			want:   []want{{"ndcg", 1, 0.5}, {"ndcg", 3, 0.7602}},
		},
		{
			name:   "BEIR q1: numeric ids compare as strings",
			judged: map[string]int{"10": 2, "9": 1},
			docs:   []Scored{{"9", 0.5}, {"10", 0.5}, {"11", 0.25}},
			order:  "9,10,11",
			want:   []want{{"ndcg", 1, 0.5}, {"ndcg", 2, 0.8597}},
		},
		{
			name:   "BEIR q2: three-way tie",
			judged: map[string]int{"11": 1},
			docs:   []Scored{{"9", 0.75}, {"10", 0.75}, {"11", 0.75}},
			order:  "9,11,10",
			want:   []want{{"ndcg", 1, 0}, {"ndcg", 3, 0.6309}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ranked := QueryRun{QueryID: "q", Docs: c.docs}.TrecRanking()
			if got := docIDs(ranked); got != c.order {
				t.Fatalf("ranking %s, want %s", got, c.order)
			}
			for _, w := range c.want {
				m := trecMeasures(c.judged, ranked, []int{w.k})
				got := m.ndcg[0]
				if w.measure == "P" {
					got = m.precision[0]
				}
				// trec_eval prints 4 decimals.
				if !near(got, w.value, 0.00005) {
					t.Errorf("%s_%d = %v, want %v", w.measure, w.k, got, w.value)
				}
			}
		})
	}
}

func TestEvaluate_BEIRSpecVectorMRRUsesInsertionOrder(t *testing.T) {
	qrels := Qrels{"1": {"10": 2, "9": 1}, "2": {"11": 1}}
	run := Run{
		{QueryID: "1", Docs: []Scored{{"9", 0.5}, {"10", 0.5}, {"11", 0.25}}},
		{QueryID: "2", Docs: []Scored{{"9", 0.75}, {"10", 0.75}, {"11", 0.75}}},
	}
	m := Evaluate(qrels, run)
	// q1: first relevant at rank 1 either way; q2: trec_eval's recip_rank would be 1/2 (order 9,11,10) but
	// mteb's MRR keeps insertion order 9,10,11, so 1/3.
	want := (1.0 + 1.0/3) / 2
	if got, _ := m.Get("mrr_at_10"); got != want {
		t.Errorf("mrr_at_10 = %v, want %v", got, want)
	}
	if got, _ := m.Get("mrr_at_1"); got != 0.5 {
		t.Errorf("mrr_at_1 = %v, want 0.5", got)
	}
	// ndcg_at_1: q1 0.5 (doc 9 of grade 1 before 10 of grade 2), q2 0.
	if got, _ := m.Get("ndcg_at_1"); got != 0.25 {
		t.Errorf("ndcg_at_1 = %v, want 0.25", got)
	}
}

// workedQA is the worked QA example of research/vidore.md §4.9.
var workedQA = struct {
	queries []*string
	files   []string
	scores  [][]float64
}{
	queries: []*string{ptr("q_alpha"), ptr("q_beta"), ptr("q_alpha"), nil, ptr("q_gamma")},
	files:   []string{"p1.png", "p2.png", "p3.png", "p4.png", "p2.png"},
	scores: [][]float64{
		{0.875, 0.125, 0.875, 0.375, 0.25},
		{0.5, 0.375, -0.25, 0.625, 0.4375},
		{0.25, 0.75, 0.125, 0.75, 0.0},
	},
}

func ptr(s string) *string { return &s }

// workedQAWant are the expected metrics of the worked example (ndcg…precision from trec_eval, MRR by hand,
// naucs from a NumPy emulation).
var workedQAWant = map[string]float64{
	"ndcg_at_1": 0.33333, "ndcg_at_3": 0.71031, "ndcg_at_5": 0.71031, "ndcg_at_10": 0.71031, "ndcg_at_20": 0.71031, "ndcg_at_50": 0.71031, "ndcg_at_100": 0.71031,
	"map_at_1": 0.33333, "map_at_3": 0.61111, "map_at_5": 0.61111, "map_at_10": 0.61111, "map_at_20": 0.61111, "map_at_50": 0.61111, "map_at_100": 0.61111,
	"recall_at_1": 0.33333, "recall_at_3": 1.0, "recall_at_5": 1.0, "recall_at_10": 1.0, "recall_at_20": 1.0, "recall_at_50": 1.0, "recall_at_100": 1.0,
	"precision_at_1": 0.33333, "precision_at_3": 0.33333, "precision_at_5": 0.2, "precision_at_10": 0.1, "precision_at_20": 0.05, "precision_at_50": 0.02, "precision_at_100": 0.01,
	"mrr_at_1": 0.3333333333333333, "mrr_at_3": 0.611111111111111, "mrr_at_5": 0.611111111111111, "mrr_at_10": 0.611111111111111, "mrr_at_20": 0.611111111111111, "mrr_at_50": 0.611111111111111, "mrr_at_100": 0.611111111111111,
	"naucs_at_1_max": 1.0, "naucs_at_1_std": -0.2857142857142857, "naucs_at_1_diff1": -0.7142857142857142,
	"naucs_at_3_max": math.NaN(), "naucs_at_3_std": math.NaN(), "naucs_at_3_diff1": math.NaN(),
}

func workedQADataset() *Dataset {
	ds := &Dataset{Name: "worked", Format: FormatQA, Qrels: Qrels{}, IgnoreIdenticalIDs: true}
	last := map[string]string{}
	for i, q := range workedQA.queries {
		ds.Passages = append(ds.Passages, Passage{DocID: workedQA.files[i]})
		if q == nil {
			continue
		}
		if _, ok := last[*q]; !ok {
			ds.Queries = append(ds.Queries, Query{ID: *q, Text: *q})
		}
		last[*q] = workedQA.files[i]
	}
	for q, f := range last {
		ds.Qrels[q] = map[string]int{f: 1}
	}
	return ds
}

func checkWorkedQA(t *testing.T, m Metrics) {
	t.Helper()
	want := maps.Clone(workedQAWant)
	for _, k := range []int{5, 10, 20, 50, 100} {
		for _, f := range []string{"max", "std", "diff1"} {
			want["naucs_at_"+strconv.Itoa(k)+"_"+f] = 1.0
		}
	}
	if len(m) != len(want) {
		t.Errorf("%d metrics, want %d", len(m), len(want))
	}
	for name, want := range want {
		got, ok := m.Get(name)
		switch {
		case !ok:
			t.Errorf("%s missing", name)
		case math.IsNaN(want):
			if !math.IsNaN(got) {
				t.Errorf("%s = %v, want NaN", name, got)
			}
		case strings.HasPrefix(name, "naucs"):
			if !near(got, want, 1e-12) {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		case got != want:
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestEvaluate_WorkedQAExample(t *testing.T) {
	ds := workedQADataset()
	run, err := BuildRun(ds, workedQA.scores)
	if err != nil {
		t.Fatal(err)
	}
	// The run after merging (§4.9): q_beta's p3.png is clamped to 0 and the two p2.png rows keep the max.
	wantRun := map[string][]Scored{
		"q_alpha": {{"p1.png", .875}, {"p2.png", .25}, {"p3.png", .875}, {"p4.png", .375}},
		"q_beta":  {{"p1.png", .5}, {"p2.png", .4375}, {"p3.png", 0}, {"p4.png", .625}},
		"q_gamma": {{"p1.png", .25}, {"p2.png", .75}, {"p3.png", .125}, {"p4.png", .75}},
	}
	for _, qr := range run {
		if got, want := qr.Docs, wantRun[qr.QueryID]; !slices.Equal(got, want) {
			t.Errorf("run of %s = %v, want %v", qr.QueryID, got, want)
		}
	}
	checkWorkedQA(t, Evaluate(ds.Qrels, run))
}

func TestBuildRun_FirstRowKeepsNegativeScore(t *testing.T) {
	ds := &Dataset{
		Queries:  []Query{{ID: "q", Text: "q"}},
		Passages: []Passage{{DocID: "a"}, {DocID: "b"}, {DocID: "a"}, {DocID: "c"}},
	}
	run, err := BuildRun(ds, [][]float64{{-2, -1, -3, 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	// a: first row keeps -2, its later row max(-2, -3) = -2; b: max(0, -1) = 0; c: 0.5.
	want := []Scored{{"a", -2}, {"b", 0}, {"c", 0.5}}
	if !slices.Equal(run[0].Docs, want) {
		t.Errorf("run = %v, want %v", run[0].Docs, want)
	}
}

func TestBuildRun_IgnoreIdenticalIDs(t *testing.T) {
	ds := &Dataset{
		Queries:            []Query{{ID: "b", Text: "b"}},
		Passages:           []Passage{{DocID: "a"}, {DocID: "b"}},
		IgnoreIdenticalIDs: true,
	}
	run, err := BuildRun(ds, [][]float64{{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Scored{{"a", 1}}; !slices.Equal(run[0].Docs, want) {
		t.Errorf("run = %v, want %v", run[0].Docs, want)
	}
	ds.IgnoreIdenticalIDs = false
	run, _ = BuildRun(ds, [][]float64{{1, 2}})
	if len(run[0].Docs) != 2 {
		t.Errorf("without IgnoreIdenticalIDs the run has %d documents, want 2", len(run[0].Docs))
	}
}

func TestBuildRun_RejectsWrongShapes(t *testing.T) {
	ds := &Dataset{Queries: []Query{{ID: "q"}}, Passages: []Passage{{DocID: "a"}, {DocID: "b"}}}
	if _, err := BuildRun(ds, [][]float64{{1}}); err == nil {
		t.Error("a short score row was accepted")
	}
	if _, err := BuildRun(ds, nil); err == nil {
		t.Error("a missing score row was accepted")
	}
}

func TestEvaluate_QueriesWithoutJudgmentsAreSkippedButCountForMRR(t *testing.T) {
	qrels := Qrels{"1": {"a": 1}}
	run := Run{
		{QueryID: "1", Docs: []Scored{{"a", 1}, {"b", 0.5}}},
		{QueryID: "2", Docs: []Scored{{"a", 1}, {"b", 0.5}}},
	}
	m := Evaluate(qrels, run)
	if got, _ := m.Get("ndcg_at_1"); got != 1 {
		t.Errorf("ndcg_at_1 = %v, want 1 (query 2 skipped as pytrec_eval does)", got)
	}
	if got, _ := m.Get("mrr_at_1"); got != 0.5 {
		t.Errorf("mrr_at_1 = %v, want 0.5 (query 2 counted as a miss as mteb does)", got)
	}
}

func TestRound5(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{0.015625, 0.01562}, // exact binary tie: half to even
		{0.046875, 0.04688},
		{2.0 / 3, 0.66667},
		{0.123455, 0.12345}, // 0.123455 is slightly below the tie in binary
		{1, 1},
		{0, 0},
	} {
		if got := Round5(c.in); got != c.want {
			t.Errorf("Round5(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestEvaluate_WorkedQAExampleFromParquet(t *testing.T) {
	dir := t.TempDir()
	writeQA(t, dir, workedQA.queries, workedQA.files, 2)
	ds, err := Load(dir, "worked", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := BuildRun(ds, workedQA.scores)
	if err != nil {
		t.Fatal(err)
	}
	checkWorkedQA(t, Evaluate(ds.Qrels, run))
}
