package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/colsmol/colsmol/internal/npy"
	"github.com/colsmol/colsmol/internal/ort"
)

// askOutput is the --json document of `colsmol ask` (interfaces.md).
type askOutput struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Sources  []struct {
		DocID string   `json:"doc_id"`
		Path  string   `json:"path"`
		Page  int      `json:"page"`
		Score *float64 `json:"score"`
	} `json:"sources"`
	Tokens []int64 `json:"tokens"`
}

// runAskCLI runs the built colsmol with the tiny models and returns stdout, stderr and the exit status.
func runAskCLI(t *testing.T, db string, args ...string) (string, string, int) {
	t.Helper()
	root := moduleRoot(t)
	full := append([]string{"--db", db, "--threads", "1",
		"--model", filepath.Join(root, "testdata", "models", "tiny-colsmol"),
		"--generator", filepath.Join(root, "testdata", "models", "tiny-smolvlm")}, args...)
	return runCLI(t, []string{"ONNXRUNTIME_LIB=" + ort.LibraryPath()}, full...)
}

func decodeAsk(t *testing.T, stdout string) askOutput {
	t.Helper()
	var a askOutput
	if err := json.Unmarshal([]byte(stdout), &a); err != nil {
		t.Fatalf("ask --json printed no JSON document: %v\n%s", err, stdout)
	}
	return a
}

// TestAskCLIImage asks about an image without retrieval: the ids must be transformers.js's for the same
// question and image (generate/testdata/parity/goldens.json), and --inputs-out writes the inputs.
func TestAskCLIImage(t *testing.T) {
	cliEnv(t)
	root := moduleRoot(t)
	type parityCase struct {
		Name, Question string
		Images         []string
		Tokens         []int64
		PromptTokens   int `json:"prompt_tokens"`
	}
	var gold struct{ Cases []parityCase }
	b, err := os.ReadFile(filepath.Join(root, "generate", "testdata", "parity", "goldens.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &gold); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(gold.Cases, func(c parityCase) bool { return c.Name == "two-pages" })
	if i < 0 {
		t.Fatal("goldens have no two-pages case")
	}
	c := gold.Cases[i]
	args := []string{"ask", "--json", "--max-new-tokens", "10", "--inputs-out", t.TempDir() + "/in"}
	for _, img := range c.Images {
		args = append(args, "--image", filepath.Join(root, "generate", "testdata", "images", img))
	}
	inputs := args[5]
	stdout, stderr, code := runAskCLI(t, filepath.Join(t.TempDir(), "none.db"), append(args, c.Question)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a := decodeAsk(t, stdout)
	if a.Question != c.Question || a.Sources == nil || len(a.Sources) != 0 {
		t.Errorf("question %q, sources %v; want the question and an empty list", a.Question, a.Sources)
	}
	if !slices.Equal(a.Tokens, c.Tokens[:10]) {
		t.Errorf("tokens %v, transformers.js %v", a.Tokens, c.Tokens[:10])
	}
	ids, err := npy.ReadFile(filepath.Join(inputs, "input_ids.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids.I64) != c.PromptTokens {
		t.Errorf("--inputs-out wrote %d input ids, the prompt has %d", len(ids.I64), c.PromptTokens)
	}
	for _, f := range []string{"attention_mask.npy", "pixel_values.npy", "pixel_attention_mask.npy"} {
		if _, err := os.Stat(filepath.Join(inputs, f)); err != nil {
			t.Errorf("--inputs-out: %v", err)
		}
	}
}

// TestAskCLIRetrieval indexes images with `colsmol index`, then asks: the sources are `search`'s top pages in
// order, in JSON and in the text listing after the streamed answer.
func TestAskCLIRetrieval(t *testing.T) {
	cliEnv(t)
	root := moduleRoot(t)
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	os.Mkdir(docs, 0o755)
	for _, name := range []string{"wide-4x1.png", "banner-2x1.png", "portrait-3x4.jpg"} {
		b, err := os.ReadFile(filepath.Join(root, "generate", "testdata", "images", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(docs, name), b, 0o644)
	}
	db := filepath.Join(dir, "index.db")
	if _, stderr, code := runAskCLI(t, db, "index", docs); code != 0 {
		t.Fatalf("index: exit %d: %s", code, stderr)
	}
	const q = "Where is the triangle?"
	stdout, stderr, code := runAskCLI(t, db, "search", "--json", "--k", "2", q)
	if code != 0 {
		t.Fatalf("search: exit %d: %s", code, stderr)
	}
	var search struct {
		Results []struct {
			DocID string `json:"doc_id"`
			Path  string `json:"path"`
			Page  int    `json:"page"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &search); err != nil || len(search.Results) != 2 {
		t.Fatalf("search --json: %v %s", err, stdout)
	}

	stdout, stderr, code = runAskCLI(t, db, "ask", "--json", "--k", "2", "--max-new-tokens", "6", q)
	if code != 0 {
		t.Fatalf("ask: exit %d: %s", code, stderr)
	}
	a := decodeAsk(t, stdout)
	if len(a.Sources) != 2 || len(a.Tokens) != 6 || a.Question != q {
		t.Fatalf("ask --json: %s", stdout)
	}
	for i, s := range a.Sources {
		r := search.Results[i]
		if s.DocID != r.DocID || s.Path != r.Path || s.Page != r.Page || s.Score == nil {
			t.Errorf("source %d = %+v, search rank %d = %+v", i+1, s, i+1, r)
		}
	}

	stdout, stderr, code = runAskCLI(t, db, "ask", "--k", "2", "--max-new-tokens", "6", q)
	if code != 0 {
		t.Fatalf("ask: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	at := slices.Index(lines, "Sources:")
	if at < 2 || lines[at-1] != "" || len(lines) < at+3 {
		t.Fatalf("text output has no Sources list after a blank line:\n%s", stdout)
	}
	for i, r := range search.Results {
		line := lines[at+1+i]
		if !strings.Contains(line, fmt.Sprintf("[%d] %s, page 1 (score ", i+1, r.Path)) {
			t.Errorf("source line %q does not name %s", line, r.Path)
		}
	}
	if !strings.HasSuffix(stdout, "\n") {
		t.Error("output does not end with a newline")
	}
}

// TestAskCLIErrors checks exit statuses and messages of the refusals.
func TestAskCLIErrors(t *testing.T) {
	cliEnv(t)
	root := moduleRoot(t)
	img := filepath.Join(root, "generate", "testdata", "images", "wide-4x1.png")
	noDB := filepath.Join(t.TempDir(), "missing.db")
	noOnnx := t.TempDir()
	os.WriteFile(filepath.Join(noOnnx, "config.json"), []byte(`{"text_config":{"num_hidden_layers":2,"num_attention_heads":4}}`), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no index", []string{"ask", "What is this?"}, 3, "colsmol index"},
		{"k out of range", []string{"ask", "--k", "0", "What?"}, 2, "--k"},
		{"empty question", []string{"ask", " "}, 2, "empty"},
		{"bad top-p", []string{"ask", "--image", img, "--temperature", "1", "--top-p", "0", "What?"}, 2, "--top-p"},
		{"missing image", []string{"ask", "--image", img + ".nope", "What?"}, 3, "--image"},
		{"missing generator folder", []string{"--generator", filepath.Join(noDB, "gen"), "ask", "--image", img, "What?"}, 3, "does not exist"},
		{"generator without onnx", []string{"--generator", noOnnx, "ask", "--image", img, "What?"}, 3, "--generator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runAskCLI(t, noDB, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}
