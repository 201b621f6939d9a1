package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/colsmol/colsmol/eval/vidore"
)

type evalTestImage struct {
	Bytes []byte  `parquet:"bytes,optional"`
	Path  *string `parquet:"path,optional"`
}

type evalTestQARow struct {
	Query         *string        `parquet:"query,optional"`
	Image         *evalTestImage `parquet:"image,optional"`
	ImageFilename string         `parquet:"image_filename"`
}

type evalTestCorpusRow struct {
	CorpusID int64          `parquet:"corpus-id"`
	Image    *evalTestImage `parquet:"image,optional"`
}

type evalTestQueryRow struct {
	QueryID int64  `parquet:"query-id"`
	Query   string `parquet:"query"`
}

type evalTestQrelRow struct {
	QueryID  int64 `parquet:"query-id"`
	CorpusID int64 `parquet:"corpus-id"`
	Score    int64 `parquet:"score"`
}

func writeEvalParquet[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := parquet.NewGenericWriter[T](f, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// evalPage draws a small page with stripes whose spacing depends on seed.
func evalPage(t *testing.T, seed int) *evalTestImage {
	img := image.NewNRGBA(image.Rect(0, 0, 160+20*seed, 200))
	for y := range 200 {
		for x := range img.Bounds().Dx() {
			c := color.NRGBA{245, 245, 240, 255}
			if (y/(4+seed))%2 == 0 && x > 10 && x < 150 {
				c = color.NRGBA{uint8(30 * seed), 40, 90, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return &evalTestImage{Bytes: b.Bytes()}
}

func sp(s string) *string { return &s }

// evalDatasets writes a QA and a BEIR dataset under root and returns their folders.
func evalDatasets(t *testing.T, root string) (qa, beir string) {
	qa, beir = filepath.Join(root, "tiny_qa"), filepath.Join(root, "tiny_beir")
	rows := []evalTestQARow{
		{sp("striped blue page"), evalPage(t, 1), "a.png"},
		{nil, evalPage(t, 2), "b.png"},
		{sp("wide page"), evalPage(t, 3), "c.png"},
		{sp("striped blue page"), evalPage(t, 4), "d.png"},
	}
	writeEvalParquet(t, filepath.Join(qa, "data", "test-00000-of-00002.parquet"), rows[:2])
	writeEvalParquet(t, filepath.Join(qa, "data", "test-00001-of-00002.parquet"), rows[2:])
	writeEvalParquet(t, filepath.Join(beir, "corpus", "test-00000-of-00001.parquet"),
		[]evalTestCorpusRow{{9, evalPage(t, 1)}, {10, evalPage(t, 2)}, {11, evalPage(t, 5)}})
	writeEvalParquet(t, filepath.Join(beir, "queries", "test-00000-of-00001.parquet"),
		[]evalTestQueryRow{{1, "first"}, {2, "second"}})
	writeEvalParquet(t, filepath.Join(beir, "qrels", "test-00000-of-00001.parquet"),
		[]evalTestQrelRow{{1, 10, 2}, {1, 9, 1}, {2, 11, 1}})
	return qa, beir
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestEvalVidore_CLI(t *testing.T) {
	model := cliEnv(t)
	bin := colsmolBinary(t)
	tmp := t.TempDir()
	qa, beir := evalDatasets(t, tmp)
	env := append(os.Environ(), "HF_HOME="+filepath.Join(tmp, "hf"), "HF_HUB_OFFLINE=1")
	colsmol := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, append([]string{"--model", model, "--threads", "1"}, args...)...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), exitCode(err)
	}

	res, run := filepath.Join(tmp, "out", "results.json"), filepath.Join(tmp, "out", "run.trec")
	stdout, stderr, code := colsmol("eval", "vidore", "--dataset", qa, "--dataset", beir, "--out", res,
		"--run-out", run, "--qrels-out", filepath.Join(tmp, "out", "qrels.trec"), "--k", "2")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"nDCG@5", "tiny_qa", "tiny_beir", "average (2)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(res)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := vidore.ParseResults(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Datasets) != 2 || doc.Datasets[0].Name != qa || len(doc.Datasets[0].Metrics) != 56 || !strings.HasPrefix(doc.Version, "colsmol ") {
		t.Errorf("results document: %+v", doc)
	}
	// One run and qrels file per dataset; at most --k lines per query; QA query ids are 0 and 1.
	qaRun, err := os.ReadFile(perDatasetPath(run, qa, true))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(qaRun)), "\n")
	var got []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 6 || f[1] != "Q0" || f[5] != "colsmol" {
			t.Fatalf("run line %q", l)
		}
		got = append(got, f[0]+":"+f[3])
	}
	if strings.Join(got, " ") != "0:1 0:2 1:1 1:2" {
		t.Errorf("QA run file (query:rank) %v:\n%s", got, qaRun)
	}
	beirQrels, err := os.ReadFile(perDatasetPath(filepath.Join(tmp, "out", "qrels.trec"), beir, true))
	if err != nil || string(beirQrels) != "1 0 10 2\n1 0 9 1\n2 0 11 1\n" {
		t.Errorf("BEIR qrels file %q (%v)", beirQrels, err)
	}

	// A rerun is served by the embedding cache; --json prints the results document.
	stdout, stderr, code = colsmol("eval", "vidore", "--json", "--dataset", qa)
	if code != 0 {
		t.Fatalf("rerun exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "0 pages embedded, 4 cached") {
		t.Errorf("the rerun did not use the cache:\n%s", stderr)
	}
	var j map[string]any
	if err := json.Unmarshal([]byte(stdout), &j); err != nil || j["metrics"] == nil {
		t.Errorf("--json output is not the results document (%v):\n%s", err, stdout)
	}

	// A dataset that cannot be evaluated is skipped (exit 1); none at all is exit 3; bad flags exit 2.
	notDataset := t.TempDir()
	if _, stderr, code = colsmol("eval", "vidore", "--dataset", qa, "--dataset", notDataset); code != 1 || !strings.Contains(stderr, "skip "+notDataset) {
		t.Errorf("one bad dataset: exit %d\n%s", code, stderr)
	}
	if _, stderr, code = colsmol("eval", "vidore", "--dataset", "vidore/not_cached_here"); code != 3 || !strings.Contains(stderr, "not_cached_here") {
		t.Errorf("uncached Hub dataset offline: exit %d\n%s", code, stderr)
	}
	for _, args := range [][]string{{"eval", "vidore"}, {"eval", "vidore", "--dataset", qa, "--k", "0"}, {"eval", "vidore", "--dataset", "./missing"}} {
		if _, stderr, code = colsmol(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
}
