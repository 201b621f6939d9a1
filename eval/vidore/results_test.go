package vidore

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPydanticFloat(t *testing.T) {
	// Expected strings: research/vidore.md §5.1 (pydantic 2.13.4 model_dump_json).
	for _, c := range []struct {
		in   float64
		want string
	}{
		{1, "1.0"},
		{0, "0.0"},
		{0.56429, "0.56429"},
		{0.5678571428571428, "0.5678571428571428"},
		{-0.2857142857142857, "-0.2857142857142857"},
		{0.00001, "0.00001"},
		{1e15, "1000000000000000.0"},
		{1e-6, "1e-6"},
		{1.5e-7, "1.5e-7"},
		{1e16, "1e+16"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
		{math.Inf(-1), "null"},
	} {
		if got := PydanticFloat(c.in); got != c.want {
			t.Errorf("PydanticFloat(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestPythonTimestamp(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	ts := time.Date(2024, 12, 22, 21, 23, 41, 7959000, loc)
	if got := PythonTimestamp(ts.In(time.Local)); got != ts.In(time.Local).Format("2006-01-02T15:04:05")+".007959" {
		t.Errorf("timestamp %s", got)
	}
	whole := time.Date(2024, 1, 2, 3, 4, 5, 0, time.Local)
	if got := PythonTimestamp(whole); got != "2024-01-02T03:04:05" {
		t.Errorf("timestamp without microseconds %s, want 2024-01-02T03:04:05", got)
	}
}

func TestResults_LayoutOfVidoreBenchmark(t *testing.T) {
	r := &Results{
		Timestamp: time.Date(2024, 12, 22, 21, 23, 41, 7959000, time.Local),
		Version:   "colsmol dev",
		Extra:     []Field{{"model", "tiny \"colsmol\""}},
		Datasets: []DatasetMetrics{
			{Name: "vidore/tabfquad_test_subsampled", Metrics: Metrics{{"ndcg_at_1", 0.56429}, {"mrr_at_1", 0.5678571428571428}, {"naucs_at_3_max", math.NaN()}, {"naucs_at_100_diff1", 1}}},
			{Name: "local/x", Metrics: Metrics{{"ndcg_at_5", 0.5}}},
		},
	}
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
    "metadata": {
        "timestamp": "2024-12-22T21:23:41.007959",
        "vidore_benchmark_version": "colsmol dev",
        "model": "tiny \"colsmol\""
    },
    "metrics": {
        "vidore/tabfquad_test_subsampled": {
            "ndcg_at_1": 0.56429,
            "mrr_at_1": 0.5678571428571428,
            "naucs_at_3_max": null,
            "naucs_at_100_diff1": 1.0
        },
        "local/x": {
            "ndcg_at_5": 0.5
        }
    }
}`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	back, err := ParseResults(b)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Timestamp.Equal(r.Timestamp) || back.Version != r.Version || len(back.Extra) != 1 || back.Extra[0] != r.Extra[0] {
		t.Errorf("metadata read back as %+v", back)
	}
	again, _ := back.MarshalJSON()
	if !bytes.Equal(again, b) {
		t.Errorf("a parsed document does not write back identically:\n%s", again)
	}
}

func TestResults_Empty(t *testing.T) {
	b, _ := (&Results{Timestamp: time.Date(2024, 1, 1, 0, 0, 0, 0, time.Local), Version: "v"}).MarshalJSON()
	if !strings.HasSuffix(string(b), "\"metrics\": {}\n}") {
		t.Errorf("empty results:\n%s", b)
	}
}

func TestEvaluate_KeyOrderOfResultsFiles(t *testing.T) {
	m := Evaluate(Qrels{"q": {"a": 1}}, Run{{QueryID: "q", Docs: []Scored{{"a", 1}, {"b", 0}}}})
	var names []string
	for _, x := range m {
		names = append(names, x.Name)
	}
	got := strings.Join(names, " ")
	// The order of VB tests/data/e2e_vidore_results/colsmol_256M_tabfquad.json.
	var want []string
	for _, p := range []string{"ndcg", "map", "recall", "precision", "mrr"} {
		for _, k := range []string{"1", "3", "5", "10", "20", "50", "100"} {
			want = append(want, p+"_at_"+k)
		}
	}
	for _, k := range []string{"1", "3", "5", "10", "20", "50", "100"} {
		for _, f := range []string{"max", "std", "diff1"} {
			want = append(want, "naucs_at_"+k+"_"+f)
		}
	}
	if got != strings.Join(want, " ") {
		t.Errorf("keys\n%s\nwant\n%s", got, strings.Join(want, " "))
	}
}
