package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colsmol/colsmol/internal/hub"
	"github.com/colsmol/colsmol/internal/hub/hubtest"
	"github.com/colsmol/colsmol/internal/modelbuild"
)

// hubEnv starts a fake Hub with the registry's repositories and points the environment at it.
func hubEnv(t *testing.T) (*hubtest.Hub, string) {
	t.Helper()
	repos := append(hubtest.ColSmolRepos(), hubtest.SmolVLMRepo("HuggingFaceTB/SmolVLM-256M-Instruct"),
		&hubtest.Repo{ID: "someone/tiny", Commit: strings.Repeat("1", 40), Files: map[string][]byte{
			"config.json": []byte(`{"tiny":true}`), "onnx/model.onnx": bytes.Repeat([]byte("w"), 5000)}},
		&hubtest.Repo{ID: "someone/gated", Commit: strings.Repeat("2", 40), Gated: true, Files: map[string][]byte{"config.json": []byte("{}")}},
	)
	h := hubtest.New(repos...)
	h.Token = "hf_test"
	t.Cleanup(h.Close)
	home := t.TempDir()
	for _, n := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "XDG_CACHE_HOME"} {
		t.Setenv(n, "")
	}
	t.Setenv("HF_ENDPOINT", h.URL())
	t.Setenv("HF_HOME", home)
	return h, home
}

// runHubCLI runs colsmol in-process and returns stdout and the error.
func runHubCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestModelPullRegistryVariant(t *testing.T) {
	h, home := hubEnv(t)
	h.CutAfter("onnx/decoder_model_merged_q4.onnx", 1000) // one dropped connection, resumed
	out, err := runHubCLI(t, "-q", "model", "pull", "smolvlm-256m-instruct", "--precision", "q4")
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimSpace(out)
	if !strings.HasPrefix(dir, filepath.Join(home, "colsmol", "models")) {
		t.Fatalf("printed %q", out)
	}
	repo := hubtest.SmolVLMRepo("HuggingFaceTB/SmolVLM-256M-Instruct")
	for _, g := range []string{"vision_encoder", "embed_tokens", "decoder_model_merged"} {
		b, err := os.ReadFile(filepath.Join(dir, "onnx", g+".onnx"))
		if err != nil || !bytes.Equal(b, repo.Files["onnx/"+g+"_q4.onnx"]) {
			t.Errorf("%s.onnx: %v", g, err)
		}
	}
	ranged := false
	for _, r := range h.Requests() {
		ranged = ranged || (r.Server == "cdn" && r.Range == "bytes=1000-")
	}
	if !ranged {
		t.Error("the dropped download was not resumed with a Range request")
	}
	// Afterwards the same name resolves from the cache with the Hub gone.
	h.Close()
	g := &globalOptions{quiet: true}
	got, err := resolveModel(g, "smolvlm-256m-instruct:q4", roleGenerator)
	if err != nil || got != dir {
		t.Errorf("resolveModel offline: %s %v", got, err)
	}
}

func TestModelPullJSONAndRepo(t *testing.T) {
	_, home := hubEnv(t)
	out, err := runHubCLI(t, "-q", "--json", "model", "pull", "someone/tiny@main")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Name, Kind, Path string
		Sources          []struct {
			Repo, Revision, Commit string
			Files                  []string
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	wantDir := filepath.Join(home, "hub", "models--someone--tiny", "snapshots", strings.Repeat("1", 40))
	if doc.Path != wantDir || doc.Kind != "snapshot" || len(doc.Sources) != 1 || len(doc.Sources[0].Files) != 2 || doc.Sources[0].Commit != strings.Repeat("1", 40) {
		t.Errorf("doc %+v", doc)
	}
	if b, err := os.ReadFile(filepath.Join(wantDir, "onnx", "model.onnx")); err != nil || len(b) != 5000 {
		t.Errorf("model.onnx: %v", err)
	}

	out, err = runHubCLI(t, "--json", "model", "ls")
	if err != nil {
		t.Fatal(err)
	}
	var list modelList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Repos) != 1 || list.Repos[0].Repo != "someone/tiny" || list.Repos[0].SizeBytes != 5000+int64(len(`{"tiny":true}`)) ||
		list.Repos[0].Refs["main"] != strings.Repeat("1", 40) || list.CacheDir != filepath.Join(home, "hub") {
		t.Errorf("ls %+v", list)
	}
	out, err = runHubCLI(t, "model", "ls")
	if err != nil || !strings.Contains(out, "someone/tiny") || !strings.Contains(out, "4.9 KiB") || !strings.Contains(out, "main") {
		t.Errorf("ls text %q %v", out, err)
	}
}

func TestModelPullErrors(t *testing.T) {
	hubEnv(t)
	cases := []struct {
		args  []string
		code  int
		words []string
	}{
		{[]string{"model", "pull", "someone/gated"}, exitNothing, []string{"someone/gated", "HF_TOKEN", "gated"}},
		{[]string{"model", "pull", "someone/missing"}, exitNothing, []string{"someone/missing", "404"}},
		{[]string{"model", "pull", "no-such-model"}, exitUsage, []string{"colsmol-256m", "smolvlm-256m-instruct"}},
		{[]string{"model", "pull", "colsmol-256m", "--precision", "fp16"}, exitUsage, []string{"fp32, int8"}},
	}
	for _, c := range cases {
		_, err := runHubCLI(t, append([]string{"-q"}, c.args...)...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != c.code {
			t.Errorf("%v: err %v, want exit status %d", c.args, err, c.code)
			continue
		}
		for _, w := range c.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: message %q lacks %q", c.args, err, w)
			}
		}
	}
	// The exit status through run(), as a script sees it.
	if code := run([]string{"-q", "model", "pull", "someone/missing"}); code != exitNothing {
		t.Errorf("run: exit status %d", code)
	}
	// With the token the gated repository comes.
	t.Setenv("HF_TOKEN", "hf_test")
	if _, err := runHubCLI(t, "-q", "model", "pull", "someone/gated"); err != nil {
		t.Errorf("with HF_TOKEN: %v", err)
	}
}

func TestModelPullOffline(t *testing.T) {
	hubEnv(t)
	if _, err := runHubCLI(t, "-q", "model", "pull", "smolvlm-256m-instruct"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	if _, err := runHubCLI(t, "-q", "model", "pull", "smolvlm-256m-instruct"); err != nil {
		t.Errorf("offline pull of a cached model: %v", err)
	}
	_, err := runHubCLI(t, "-q", "model", "pull", "smolvlm-256m-instruct:int8")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitNothing || !errors.Is(err, hub.ErrNotCached) {
		t.Fatalf("err %v", err)
	}
	for _, w := range []string{"onnx/vision_encoder_int8.onnx", "colsmol model pull smolvlm-256m-instruct:int8", "HF_HUB_OFFLINE"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q lacks %q", err, w)
		}
	}
	if strings.Count(err.Error(), "colsmol model pull") != 1 {
		t.Errorf("not one message: %q", err)
	}
}

func TestResolveModel(t *testing.T) {
	h, _ := hubEnv(t)
	g := &globalOptions{quiet: true}
	dir := t.TempDir()
	if got, err := resolveModel(g, dir, roleRetriever); err != nil || got != dir {
		t.Errorf("folder: %s %v", got, err)
	}
	cases := []struct {
		in, role string
		code     int
		words    []string
	}{
		{"./no/such/folder", roleRetriever, exitNothing, []string{"does not exist"}},
		{"colsmol-9b", roleRetriever, exitUsage, []string{"colsmol-256m", "smolvlm-256m-instruct"}},
		{"smolvlm-256m-instruct", roleRetriever, exitUsage, []string{"generator", "--model"}},
		{"colsmol-256m", roleGenerator, exitUsage, []string{"retriever", "--generator"}},
	}
	for _, c := range cases {
		_, err := resolveModel(g, c.in, c.role)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != c.code {
			t.Errorf("%s: %v, want exit status %d", c.in, err, c.code)
			continue
		}
		for _, w := range c.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.in, err, w)
			}
		}
	}
	// A registry name is pulled on first use, then served without asking the Hub.
	got, err := resolveModel(g, "colsmol-256m-onnx", roleRetriever)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(got, "onnx", "model.onnx")); err != nil {
		t.Error(err)
	}
	n := len(h.Requests())
	if again, err := resolveModel(g, "colsmol-256m-onnx", roleRetriever); err != nil || again != got || len(h.Requests()) != n {
		t.Errorf("second resolve: %s %v, %d new requests", again, err, len(h.Requests())-n)
	}
}

// TestModelPullConverts pulls colsmol-256m from a fake Hub whose base repository holds real (tiny, random)
// safetensors weights, and checks that the real converter turned them into a model folder once.
func TestModelPullConverts(t *testing.T) {
	src := t.TempDir()
	err := modelbuild.Convert(context.Background(), modelbuild.ConvertOptions{Random: true, Preset: "tiny-colsmol", Seed: 7,
		Out: src, WeightsOut: filepath.Join(src, "model.safetensors"), Tokenizer: filepath.Join("..", "..", "testdata", "tokenizer")})
	if err != nil {
		t.Fatal(err)
	}
	base := &hubtest.Repo{ID: "vidore/ColSmolVLM-Instruct-256M-base", Commit: hubtest.BaseCommit, Files: map[string][]byte{}}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			base.Files[e.Name()] = b
		}
	}
	// A LoRA adapter with no modules: a valid PEFT file that leaves the weights as they are.
	header := []byte("{}")
	st := append([]byte{byte(len(header)), 0, 0, 0, 0, 0, 0, 0}, header...)
	adapter := &hubtest.Repo{ID: "vidore/colSmol-256M", Commit: hubtest.AdapterCommit, Files: map[string][]byte{
		"adapter_config.json":       []byte(`{"peft_type":"LORA","r":32,"lora_alpha":32,"target_modules":[]}`),
		"adapter_model.safetensors": st,
	}}
	h := hubtest.New(base, adapter)
	defer h.Close()
	hubEnv(t)
	t.Setenv("HF_ENDPOINT", h.URL())
	out, err := runHubCLI(t, "-q", "model", "pull", "colsmol-256m")
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimSpace(out)
	if !strings.Contains(dir, filepath.Join("colsmol", "converted", "colsmol-256m-fp32-")) {
		t.Errorf("converted folder %q", dir)
	}
	for _, f := range []string{"config.json", "tokenizer.json", "onnx/vision_encoder.onnx", "onnx/embed_tokens.onnx", "onnx/text_embeddings.onnx"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("converted folder lacks %s", f)
		}
	}
	// --model colsmol-256m now resolves to it without the Hub.
	h.Close()
	if got, err := resolveModel(&globalOptions{quiet: true}, "colsmol-256m", roleRetriever); err != nil || got != dir {
		t.Errorf("resolve after conversion: %s %v", got, err)
	}
}
