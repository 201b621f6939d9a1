package vidore

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteRun_TrecOrderAndDepth(t *testing.T) {
	ds := workedQADataset()
	for i := range ds.Queries {
		ds.Queries[i].RunID = string(rune('0' + i))
	}
	run, err := BuildRun(ds, workedQA.scores)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteRun(&b, ds.Queries, run, 3); err != nil {
		t.Fatal(err)
	}
	// q_alpha: p1 and p3 tie at 0.875 and trec_eval puts p3.png first; q_beta's p3.png was clamped to 0.
	want := `0 Q0 p3.png 1 0.875 colsmol
0 Q0 p1.png 2 0.875 colsmol
0 Q0 p4.png 3 0.375 colsmol
1 Q0 p4.png 1 0.625 colsmol
1 Q0 p1.png 2 0.5 colsmol
1 Q0 p2.png 3 0.4375 colsmol
2 Q0 p4.png 1 0.75 colsmol
2 Q0 p2.png 2 0.75 colsmol
2 Q0 p1.png 3 0.25 colsmol
`
	if b.String() != want {
		t.Errorf("run file\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	WriteRun(&b, ds.Queries, run, 0)
	if n := strings.Count(b.String(), "\n"); n != 12 {
		t.Errorf("depth 0 wrote %d lines, want all 12", n)
	}
}

func TestWriteRun_ScoresReadBackAsTheSameFloat32(t *testing.T) {
	run := Run{{QueryID: "q", Docs: []Scored{{"a", float64(float32(12.3456))}, {"b", 1.00000001}, {"c", -3e-9}}}}
	var b bytes.Buffer
	WriteRun(&b, []Query{{ID: "q", RunID: "q"}}, run, 0)
	want := "q Q0 a 1 12.3456 colsmol\nq Q0 b 2 1 colsmol\nq Q0 c 3 -3e-09 colsmol\n"
	if b.String() != want {
		t.Errorf("run file\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteQrels(t *testing.T) {
	ds := &Dataset{
		Queries: []Query{{ID: "2", RunID: "2"}, {ID: "1", RunID: "1"}},
		Qrels:   Qrels{"1": {"10": 2, "9": 1}, "2": {"11": 0}},
	}
	var b bytes.Buffer
	if err := WriteQrels(&b, ds); err != nil {
		t.Fatal(err)
	}
	if want := "2 0 11 0\n1 0 10 2\n1 0 9 1\n"; b.String() != want {
		t.Errorf("qrels\n%s\nwant\n%s", b.String(), want)
	}
}

func TestCheckTrecIDs(t *testing.T) {
	ok := &Dataset{Queries: []Query{{RunID: "0"}}, Passages: []Passage{{DocID: "a.png"}}}
	if err := CheckTrecIDs(ok); err != nil {
		t.Error(err)
	}
	bad := &Dataset{Queries: []Query{{RunID: "0"}}, Passages: []Passage{{DocID: "my page.png"}}}
	if err := CheckTrecIDs(bad); err == nil {
		t.Error("a document id with a space was accepted")
	}
}
