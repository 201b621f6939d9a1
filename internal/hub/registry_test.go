package hub

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/colsmol/colsmol/internal/hub/hubtest"
)

func registryHub(t *testing.T) (*hubtest.Hub, Options) {
	repos := append(hubtest.ColSmolRepos(), hubtest.SmolVLMRepo("HuggingFaceTB/SmolVLM-256M-Instruct"))
	h := hubtest.New(repos...)
	t.Cleanup(h.Close)
	return h, testOptions(t, h)
}

func TestParseRefAndPlanFor(t *testing.T) {
	cases := []struct {
		in, precision     string
		name, repo, rev   string
		kind, planPrec    string
		wantErr, errWords string
	}{
		{in: "colsmol-256m", name: "colsmol-256m", kind: KindConvert, planPrec: "fp32"},
		{in: "COLSMOL-256M:int8", name: "colsmol-256m", kind: KindConvert, planPrec: "int8"},
		{in: "smolvlm-256m-instruct", name: "smolvlm-256m-instruct", kind: KindSnapshot, planPrec: "fp32"},
		{in: "smolvlm-256m-instruct", precision: "q4", name: "smolvlm-256m-instruct", kind: KindLinks, planPrec: "q4"},
		{in: "smolvlm-500m-instruct:fp16", name: "smolvlm-500m-instruct", kind: KindLinks, planPrec: "fp16"},
		{in: "colsmol-256m-onnx", name: "colsmol-256m-onnx", kind: KindLinks, planPrec: "fp32"},
		{in: "HuggingFaceTB/SmolVLM-256M-Instruct@refs/pr/3", repo: "HuggingFaceTB/SmolVLM-256M-Instruct", rev: "refs/pr/3", kind: KindSnapshot, planPrec: "fp32"},
		{in: "someone/tiny-model@v1", repo: "someone/tiny-model", rev: "v1", kind: KindSnapshot},
		{in: "colsmol-256m:fp16", wantErr: "plan", errWords: "fp32, int8"},
		{in: "smolvlm-256m-instruct:q4", precision: "int8", wantErr: "plan", errWords: "disagree"},
		{in: "someone/tiny-model", precision: "q4", wantErr: "plan", errWords: "registry models only"},
		{in: "colsmol-1b", wantErr: "parse", errWords: "colsmol-256m, colsmol-500m"},
		{in: "a/b/c", wantErr: "parse", errWords: "org/name"},
	}
	for _, c := range cases {
		r, err := ParseRef(c.in)
		if c.wantErr == "parse" {
			if err == nil || !strings.Contains(err.Error(), c.errWords) {
				t.Errorf("ParseRef(%q) err = %v, want one with %q", c.in, err, c.errWords)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRef(%q): %v", c.in, err)
			continue
		}
		if c.wantErr == "" && (r.Name != c.name || r.Repo != c.repo || r.Revision != c.rev) {
			t.Errorf("ParseRef(%q) = %+v", c.in, r)
		}
		p, err := PlanFor(r, c.precision)
		if c.wantErr == "plan" {
			if err == nil || !strings.Contains(err.Error(), c.errWords) {
				t.Errorf("PlanFor(%q, %q) err = %v, want one with %q", c.in, c.precision, err, c.errWords)
			}
			continue
		}
		if err != nil {
			t.Errorf("PlanFor(%q): %v", c.in, err)
			continue
		}
		if p.Kind != c.kind || (c.planPrec != "" && p.Precision != c.planPrec) {
			t.Errorf("PlanFor(%q) kind %s precision %s", c.in, p.Kind, p.Precision)
		}
		if c.rev != "" && p.Sources[0].Revision != c.rev {
			t.Errorf("PlanFor(%q) revision %s", c.in, p.Sources[0].Revision)
		}
	}
}

func TestSmolVLMVariantFolder(t *testing.T) {
	h, o := registryHub(t)
	ctx := context.Background()
	repo := hubtest.SmolVLMRepo("HuggingFaceTB/SmolVLM-256M-Instruct")
	e, _ := Lookup("smolvlm-256m-instruct")

	p, _ := e.Plan("fp32", "")
	dir, err := Materialize(ctx, p, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(o.CacheDir, "models--HuggingFaceTB--SmolVLM-256M-Instruct", "snapshots", hubtest.SmolVLMCommit); dir != want {
		t.Errorf("fp32 folder %s, want the snapshot %s", dir, want)
	}
	// Only the chosen variant is downloaded: no other onnx file, no safetensors.
	for _, r := range h.Requests() {
		if r.Method == "GET" && r.Server == "cdn" && (strings.Contains(r.Path, "_") || strings.Contains(r.Path, "safetensors")) {
			t.Errorf("unneeded download %s", r.Path)
		}
	}
	got := snapshotFiles(dir)
	if len(got) != 12 { // 5 required configs, 4 optional ones the repository has, 3 graphs
		t.Errorf("fp32 snapshot has %d files: %v", len(got), got)
	}

	p, _ = e.Plan("q4", "")
	dir, err = Materialize(ctx, p, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, filepath.Join(o.Home, "colsmol", "models")+string(filepath.Separator)) {
		t.Errorf("q4 folder %s not under $HF_HOME/colsmol/models", dir)
	}
	for _, g := range []string{"vision_encoder", "embed_tokens", "decoder_model_merged"} {
		b, err := os.ReadFile(filepath.Join(dir, "onnx", g+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		if want := repo.Files["onnx/"+g+"_q4.onnx"]; !bytes.Equal(b, want) {
			t.Errorf("onnx/%s.onnx is not the _q4 variant", g)
		}
		if _, err := os.Lstat(filepath.Join(dir, "onnx", g+"_q4.onnx")); err == nil {
			t.Errorf("variant name %s_q4.onnx also in the folder", g)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "chat_template.json")); err != nil || !bytes.Equal(b, repo.Files["chat_template.json"]) {
		t.Errorf("chat_template.json: %v", err)
	}
	// Offline, the same folder comes back; a variant never pulled is named as missing, with the command.
	o.Offline = true
	if again, err := Materialize(ctx, p, o, nil); err != nil || again != dir {
		t.Errorf("offline: %s %v", again, err)
	}
	// A plan with two missing sources: one message naming both.
	ec, _ := Lookup("colsmol-256m")
	pc, _ := ec.Plan("", "")
	_, err = Materialize(ctx, pc, o, nil)
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "model.safetensors, preprocessor_config.json, tokenizer.json, tokenizer_config.json of vidore/ColSmolVLM-Instruct-256M-base") ||
		!strings.Contains(err.Error(), "adapter_config.json, adapter_model.safetensors of vidore/colSmol-256M") || strings.Count(err.Error(), "HF_HUB_OFFLINE") != 2 {
		t.Errorf("offline colsmol-256m: %v", err)
	}
	p, _ = e.Plan("int8", "")
	_, err = Materialize(ctx, p, o, nil)
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "onnx/vision_encoder_int8.onnx") {
		t.Errorf("offline int8: %v", err)
	}
}

func TestConvertPlan(t *testing.T) {
	h, o := registryHub(t)
	ctx := context.Background()
	e, _ := Lookup("colsmol-256m")
	p, err := e.Plan("int8", "")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	convert := func(ctx context.Context, base, adapter, out, precision string) error {
		calls++
		for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "processor_config.json"} {
			if _, err := os.Stat(filepath.Join(base, f)); err != nil {
				t.Errorf("base snapshot lacks %s", f)
			}
		}
		for _, f := range []string{"adapter_config.json", "adapter_model.safetensors"} {
			if _, err := os.Stat(filepath.Join(adapter, f)); err != nil {
				t.Errorf("adapter snapshot lacks %s", f)
			}
		}
		if precision != "int8" {
			t.Errorf("precision %s", precision)
		}
		if err := os.MkdirAll(filepath.Join(out, "onnx"), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, "onnx", "text_embeddings.onnx"), []byte("graph"), 0o644)
	}
	dir, err := Materialize(ctx, p, o, convert)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(o.Home, "colsmol", "converted", "colsmol-256m-int8-"+hubtest.BaseCommit[:12]+"-"+hubtest.AdapterCommit[:12])
	if dir != want {
		t.Errorf("converted folder %s, want %s", dir, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "onnx", "text_embeddings.onnx")); err != nil {
		t.Error(err)
	}
	// The adapter repository's stray model.safetensors is not downloaded.
	for _, r := range h.Requests() {
		if r.Method == "HEAD" && strings.HasPrefix(r.Path, "/vidore/colSmol-256M/") && strings.HasSuffix(r.Path, "/model.safetensors") {
			t.Error("adapter's model.safetensors asked for")
		}
	}
	// Second use: no conversion. Offline with the Hub gone: still the converted folder.
	if _, err := Materialize(ctx, p, o, convert); err != nil || calls != 1 {
		t.Errorf("second use: %d conversions, %v", calls, err)
	}
	h.Close()
	must(t, os.RemoveAll(filepath.Join(o.CacheDir, "models--vidore--ColSmolVLM-Instruct-256M-base", "snapshots")))
	o.Offline = true
	if got, err := Materialize(ctx, p, o, convert); err != nil || got != dir || calls != 1 {
		t.Errorf("offline: %s %v, %d conversions", got, err, calls)
	}
	// A failed conversion leaves no folder behind.
	p32, _ := e.Plan("fp32", "")
	o.Offline = false
	h2 := hubtest.New(hubtest.ColSmolRepos()...)
	defer h2.Close()
	o.Endpoint = h2.URL()
	_, err = Materialize(ctx, p32, o, func(ctx context.Context, base, adapter, out, precision string) error {
		os.MkdirAll(out, 0o755)
		return errors.New("weights do not fit")
	})
	if err == nil || !strings.Contains(err.Error(), "weights do not fit") {
		t.Errorf("failed conversion: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(o.Home, "colsmol", "converted"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) != 2 || names[0] != ".locks" || names[1] != filepath.Base(dir) {
		t.Errorf("converted/ holds %v after a failed conversion", names)
	}
}

func TestSingleGraphReexport(t *testing.T) {
	_, o := registryHub(t)
	e, _ := Lookup("colsmol-256m-onnx")
	p, _ := e.Plan("", "")
	dir, err := Materialize(context.Background(), p, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	reex := hubtest.ColSmolRepos()[2]
	base := hubtest.ColSmolRepos()[0]
	if b, _ := os.ReadFile(filepath.Join(dir, "onnx", "model.onnx")); !bytes.Equal(b, reex.Files["model.onnx"]) {
		t.Error("onnx/model.onnx is not the re-export's model.onnx")
	}
	for _, f := range []string{"config.json", "preprocessor_config.json", "processor_config.json", "tokenizer.json", "tokenizer_config.json"} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); !bytes.Equal(b, base.Files[f]) {
			t.Errorf("%s is not the base repository's", f)
		}
	}
}

func TestListCacheAndLocal(t *testing.T) {
	_, o := registryHub(t)
	ctx := context.Background()
	e, _ := Lookup("smolvlm-256m-instruct")
	p, _ := e.Plan("int8", "")
	if _, err := Materialize(ctx, p, o, nil); err != nil {
		t.Fatal(err)
	}
	writePythonCache(t, o.CacheDir, testRepo(), "config.json", "onnx/model.onnx")
	repos, err := ListCache(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 2 {
		t.Fatalf("%d repos: %+v", len(repos), repos)
	}
	s := repos[0]
	smol := hubtest.SmolVLMRepo("HuggingFaceTB/SmolVLM-256M-Instruct")
	var size int64
	for _, f := range append(append([]string{}, smolvlmConfigs...), smolvlmOptional...) {
		size += int64(len(smol.Files[f]))
	}
	for _, g := range smolvlmGraphs {
		size += int64(len(smol.Files["onnx/"+g+"_int8.onnx"]))
	}
	if s.Repo != "HuggingFaceTB/SmolVLM-256M-Instruct" || s.Type != RepoModel || s.Refs["main"] != hubtest.SmolVLMCommit ||
		len(s.Snapshots) != 1 || len(s.Snapshots[0].Files) != 12 || s.SizeBytes != size || len(s.Registry) != 1 {
		t.Errorf("smolvlm entry %+v (want size %d)", s, size)
	}
	if repos[1].Repo != "org/model" || repos[1].SizeBytes != int64(len(testRepo().Files["config.json"])+10000) {
		t.Errorf("hand-written entry %+v", repos[1])
	}
	local, err := ListLocal(o)
	if err != nil || len(local) != 1 || local[0].Kind != "links" || !local[0].Complete || local[0].Files != 12 {
		t.Errorf("local %+v %v", local, err)
	}
}
