package main

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/colsmol/colsmol/internal/npy"
	"github.com/colsmol/colsmol/internal/ort"
)

// embedGolden reads a reference file of the embed package (scripts/embed/make_goldens.sh).
func embedGolden(t *testing.T, name string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(filepath.Join(moduleRoot(t), "embed", "testdata", "golden", name+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// runCLI runs the built colsmol with args and env additions; it returns stdout, stderr and the exit code.
func runCLI(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(colsmolBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	}
	t.Fatalf("run colsmol: %v", err)
	return "", "", -1
}

// TestEmbedCLI_InputsOnly writes the model inputs of a page from a folder that has only the tokenizer and
// processor files, with no ONNX Runtime to be found: --inputs-only must need neither.
func TestEmbedCLI_InputsOnly(t *testing.T) {
	tiny := filepath.Join(moduleRoot(t), "testdata", "models", "tiny-colsmol")
	model := t.TempDir()
	entries, err := os.ReadDir(tiny)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue // no onnx/
		}
		b, _ := os.ReadFile(filepath.Join(tiny, e.Name()))
		os.WriteFile(filepath.Join(model, e.Name()), b, 0o644)
	}
	page := filepath.Join(moduleRoot(t), "embed", "testdata", "pages", "chart_4x1.png")
	out := t.TempDir()
	noLib := []string{"ONNXRUNTIME_LIB=/nonexistent/libonnxruntime.so.1.24.3"}
	_, stderr, code := runCLI(t, noLib, "--model", model, "--ort-lib", "/nonexistent/libonnxruntime.so", "embed",
		"--image", page, "--inputs-out", out, "--inputs-only")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	read := func(name string) *npy.Array {
		a, err := npy.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ids, mask, pix, pmask := read("input_ids.npy"), read("attention_mask.npy"), read("pixel_values.npy"), read("pixel_attention_mask.npy")
	s := len(ids.I64)
	checks := []struct {
		name  string
		a     *npy.Array
		dtype string
		shape []int
	}{
		{"input_ids", ids, npy.Int64, []int{1, s}},
		{"attention_mask", mask, npy.Int64, []int{1, s}},
		{"pixel_values", pix, npy.Float32, []int{1, 5, 3, 512, 512}},
		{"pixel_attention_mask", pmask, npy.Bool, []int{1, 5, 512, 512}},
	}
	for _, c := range checks {
		if c.a.DType != c.dtype || !slices.Equal(c.a.Shape, c.shape) {
			t.Errorf("%s: %s %v, want %s %v", c.name, c.a.DType, c.a.Shape, c.dtype, c.shape)
		}
	}
	if want := embedGolden(t, "page_chart_4x1.input_ids"); !slices.Equal(ids.I64, want.I64) {
		t.Errorf("input ids differ from the embed package's reference inputs")
	}
	// A query writes ids and mask only.
	qout := t.TempDir()
	if _, stderr, code := runCLI(t, noLib, "--model", model, "embed", "--query", "a photo of a cat", "--inputs-out", qout, "--inputs-only"); code != 0 {
		t.Fatalf("query: exit %d: %s", code, stderr)
	}
	if names, _ := os.ReadDir(qout); len(names) != 2 {
		t.Errorf("query inputs: %d files, want input_ids.npy and attention_mask.npy", len(names))
	}
}

// TestEmbedCLI_Out embeds a page and a query and compares the .npy output with the reference embeddings.
func TestEmbedCLI_Out(t *testing.T) {
	model := cliEnv(t)
	env := []string{"ONNXRUNTIME_LIB=" + ort.LibraryPath()}
	dir := t.TempDir()
	cases := []struct {
		name, golden string
		args         []string
	}{
		{"page", "page_chart_4x1", []string{"--image", filepath.Join(moduleRoot(t), "embed", "testdata", "pages", "chart_4x1.png")}},
		{"query", "query_cat", []string{"--query", "a photo of a cat"}},
		{"empty query", "query_empty", []string{"--query", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			outFile := filepath.Join(dir, c.golden+".npy")
			args := append([]string{"--model", model, "--threads", "1", "--json", "embed", "--out", outFile}, c.args...)
			stdout, stderr, code := runCLI(t, env, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var sum embedSummary
			if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
				t.Fatalf("--json output %q: %v", stdout, err)
			}
			got, err := npy.ReadFile(outFile)
			if err != nil {
				t.Fatal(err)
			}
			want := embedGolden(t, c.golden)
			if got.DType != npy.Float32 || !slices.Equal(got.Shape, want.Shape) || sum.Vectors != want.Shape[0] || sum.Dim != 128 {
				t.Fatalf("output %s %v (summary %d x %d), want float32 %v", got.DType, got.Shape, sum.Vectors, sum.Dim, want.Shape)
			}
			worst := 0.0
			for i := range got.F32 {
				worst = math.Max(worst, math.Abs(float64(got.F32[i]-want.F32[i])))
			}
			if worst > 1e-4 {
				t.Errorf("max abs difference %.3g from the reference", worst)
			}
		})
	}
}

func TestEmbedCLI_Errors(t *testing.T) {
	tiny := filepath.Join(moduleRoot(t), "testdata", "models", "tiny-colsmol")
	page := filepath.Join(moduleRoot(t), "embed", "testdata", "pages", "chart_4x1.png")
	bad := filepath.Join(t.TempDir(), "bad.png")
	os.WriteFile(bad, []byte("not an image"), 0o644)
	tests := map[string]struct {
		env  []string
		args []string
		code int
		msg  string
	}{
		"neither image nor query":     {args: []string{"--model", tiny, "embed"}, code: exitUsage, msg: "exactly one of --image FILE or --query TEXT"},
		"both image and query":        {args: []string{"--model", tiny, "embed", "--image", page, "--query", "x"}, code: exitUsage, msg: "exactly one"},
		"inputs-only without a place": {args: []string{"--model", tiny, "embed", "--query", "x", "--inputs-only"}, code: exitUsage, msg: "--inputs-only needs --inputs-out"},
		"missing model folder":        {args: []string{"--model", "./no/such/model", "embed", "--query", "x"}, code: exitNothing, msg: "does not exist"},
		"unreadable image":            {args: []string{"--model", tiny, "embed", "--image", bad, "--out", filepath.Join(t.TempDir(), "x.npy")}, code: exitNothing, msg: "decode image"},
		"no ONNX Runtime": {env: []string{"ONNXRUNTIME_LIB="}, args: []string{"--model", tiny, "--ort-lib", "/nonexistent/libonnxruntime.so", "embed", "--query", "x"},
			code: exitNothing, msg: "make ort"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
}
