package rag

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/generate"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/indexer"
	"github.com/colsmol/colsmol/ingest"
	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// models opens the tiny retriever and generator once for the package.
var models struct {
	once sync.Once
	em   *embed.Embedder
	gen  *generate.Generator
	err  error
}

func tinyModels(t *testing.T) (*embed.Embedder, *generate.Generator) {
	t.Helper()
	if _, err := ort.Init(""); err != nil {
		if errors.Is(err, ort.ErrNoLibrary) {
			t.Skipf("ONNX Runtime library not available: %v (run `make ort`)", err)
		}
		t.Fatal(err)
	}
	models.once.Do(func() {
		root := filepath.Join(repoRoot(), "testdata", "models")
		if models.em, models.err = embed.Open(filepath.Join(root, "tiny-colsmol"), embed.Options{Threads: 1}); models.err != nil {
			return
		}
		models.gen, models.err = generate.Open(filepath.Join(root, "tiny-smolvlm"), generate.Options{Threads: 1})
	})
	if models.err != nil {
		t.Fatal(models.err)
	}
	return models.em, models.gen
}

// testImages are the generator's parity images: different aspect ratios, so different tile counts.
var testImages = []string{"wide-4x1.png", "banner-2x1.png", "portrait-3x4.jpg"}

// shared is the index of the test images, built once for the package (TestMain removes it).
var shared struct {
	once sync.Once
	dir  string
	st   *index.Store
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.st != nil {
		shared.st.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// newIndex returns the test images indexed into a bbolt file by the real indexer with the tiny retriever.
func newIndex(t *testing.T, em *embed.Embedder) *index.Store {
	t.Helper()
	shared.once.Do(func() { shared.dir, shared.st, shared.err = buildIndex(em) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.st
}

func buildIndex(em *embed.Embedder) (string, *index.Store, error) {
	dir, err := os.MkdirTemp("", "colsmol-rag-")
	if err != nil {
		return "", nil, err
	}
	docs := filepath.Join(dir, "docs")
	if err := os.Mkdir(docs, 0o755); err != nil {
		return dir, nil, err
	}
	for _, name := range testImages {
		b, err := os.ReadFile(filepath.Join(repoRoot(), "generate", "testdata", "images", name))
		if err != nil {
			return dir, nil, err
		}
		if err := os.WriteFile(filepath.Join(docs, name), b, 0o644); err != nil {
			return dir, nil, err
		}
	}
	st, err := index.Open(filepath.Join(dir, "index.db"), index.Options{})
	if err != nil {
		return dir, nil, err
	}
	r, err := ingest.NewRendererWithOptions(ingest.RendererOptions{CacheDir: filepath.Join(dir, "wazero")})
	if err != nil {
		return dir, st, err
	}
	defer r.Close()
	sum, err := indexer.Run(context.Background(), st, em, r, []string{docs}, indexer.Options{})
	if err != nil {
		return dir, st, err
	}
	if sum.Embedded != len(testImages) || len(sum.Failed) != 0 {
		return dir, st, fmt.Errorf("indexed %d pages, failures %v; want %d pages", sum.Embedded, sum.Failed, len(testImages))
	}
	return dir, st, nil
}

func inputsDigest(in *vlm.Inputs) [32]byte {
	h := sha256.New()
	binary.Write(h, binary.LittleEndian, in.InputIDs)
	binary.Write(h, binary.LittleEndian, in.PixelValues)
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

// TestAskEndToEnd asks a question over a real index: the sources are the search results in rank order, the
// generator is shown exactly those pages' stored previews in that order, and the stream adds up to the answer.
func TestAskEndToEnd(t *testing.T) {
	em, gen := tinyModels(t)
	st := newIndex(t, em)
	ctx := context.Background()
	const question = "Which page shows a green circle?"

	q, err := em.EmbedQuery(ctx, question)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := st.Search(q, 2, index.SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 {
		t.Fatalf("search gave %d hits, want 2", len(hits))
	}

	var shown *vlm.Inputs
	var pieces []string
	ans, err := Ask(ctx, st, em, gen, question, Options{
		K:          2,
		Params:     generate.Params{MaxNewTokens: 12},
		InputsHook: func(in *vlm.Inputs) error { shown = in; return nil },
	}, func(s string) error { pieces = append(pieces, s); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if ans.Question != question {
		t.Errorf("question %q, want %q", ans.Question, question)
	}
	if len(ans.Sources) != len(hits) {
		t.Fatalf("%d sources, want %d", len(ans.Sources), len(hits))
	}
	for i, h := range hits {
		want := Source{Label: i + 1, DocID: h.DocID, Path: h.Path, Page: h.Page, Score: h.Score}
		if ans.Sources[i] != want {
			t.Errorf("source %d = %+v, want the search's rank %d %+v", i+1, ans.Sources[i], i+1, want)
		}
	}
	if len(ans.Tokens) != 12 {
		t.Errorf("%d tokens, want the budget of 12", len(ans.Tokens))
	}
	if got := strings.TrimSpace(strings.Join(pieces, "")); got != ans.Answer {
		t.Errorf("streamed %q, answer %q", got, ans.Answer)
	}
	for _, p := range pieces {
		if p == "" {
			t.Error("an empty piece was streamed")
		}
	}

	// The prompt holds the stored previews in rank order, then the instruction naming [1], [2].
	imgs := make([]*vlm.RGB, len(hits))
	for i, h := range hits {
		if imgs[i], err = StoredPage(st)(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	instruction := "The images above are pages [1], [2], in that order. Answer the question from these pages only, and cite the pages you used as [1], [2], ... Question: " + question
	want, err := gen.Processor().Chat(imgs, instruction)
	if err != nil {
		t.Fatal(err)
	}
	if shown == nil || inputsDigest(shown) != inputsDigest(want) {
		t.Fatal("the generator was not shown the stored previews of the hits in rank order with the instruction")
	}
	slices.Reverse(imgs)
	if rev, _ := gen.Processor().Chat(imgs, instruction); inputsDigest(rev) == inputsDigest(want) {
		t.Fatal("the two pages give the same inputs in either order; the order check means nothing")
	}

	// Greedy answers are reproducible, and a custom page loader is called for the hits in rank order.
	var loaded []index.Result
	again, err := Ask(ctx, st, em, gen, question, Options{K: 2, Params: generate.Params{MaxNewTokens: 12},
		LoadPage: func(ctx context.Context, r index.Result) (*vlm.RGB, error) {
			loaded = append(loaded, r)
			return StoredPage(st)(ctx, r)
		}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Tokens, ans.Tokens) {
		t.Errorf("same question, different greedy tokens: %v and %v", again.Tokens, ans.Tokens)
	}
	if !reflect.DeepEqual(loaded, hits) {
		t.Errorf("loader called with %+v, want %+v", loaded, hits)
	}

	// The JSON of `colsmol ask --json` (interfaces.md), extra fields allowed.
	b, _ := json.Marshal(ans)
	var doc map[string]any
	json.Unmarshal(b, &doc)
	for _, key := range []string{"question", "answer", "sources", "tokens"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("JSON has no %q: %s", key, b)
		}
	}
	src := doc["sources"].([]any)[0].(map[string]any)
	for _, key := range []string{"doc_id", "path", "page", "score"} {
		if _, ok := src[key]; !ok {
			t.Errorf("source JSON has no %q: %v", key, src)
		}
	}
}

// TestAskErrors checks the refusals: an empty question, an empty index, pages that overflow the context.
func TestAskErrors(t *testing.T) {
	em, gen := tinyModels(t)
	ctx := context.Background()
	empty, err := index.Open(filepath.Join(t.TempDir(), "empty.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if _, err := Ask(ctx, empty, em, gen, "  ", Options{}, nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty question: err = %v", err)
	}
	if _, err := Ask(ctx, empty, em, gen, "anything?", Options{}, nil); err == nil || !strings.Contains(err.Error(), "colsmol index") {
		t.Errorf("empty index: err = %v, want advice to index documents", err)
	}

	// A generator whose context is shorter than two pages' prompt.
	dir := t.TempDir()
	src := filepath.Join(repoRoot(), "testdata", "models", "tiny-smolvlm")
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		if e.IsDir() {
			os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name()))
			continue
		}
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		if e.Name() == "config.json" {
			b = []byte(strings.Replace(string(b), `"max_position_embeddings": 8192`, `"max_position_embeddings": 1000`, 1))
		}
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	short, err := generate.Open(dir, generate.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	st := newIndex(t, em)
	_, err = Ask(ctx, st, em, short, "What is on these pages?", Options{K: 3, Params: generate.Params{MaxNewTokens: 4}}, nil)
	if !errors.Is(err, generate.ErrContextTooLong) || !strings.Contains(err.Error(), "--k") {
		t.Errorf("three pages into 1000 positions: err = %v, want generate.ErrContextTooLong advising --k", err)
	}
	// One page fits.
	if _, err := Ask(ctx, st, em, short, "What is on this page?", Options{K: 1, Params: generate.Params{MaxNewTokens: 2}}, nil); err != nil {
		t.Errorf("one page: %v", err)
	}
}

// TestAskImages checks the path without retrieval: the plain chat prompt over the given images.
func TestAskImages(t *testing.T) {
	_, gen := tinyModels(t)
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "generate", "testdata", "images", "banner-2x1.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := vlm.DecodeImage(b, vlm.AlphaWhite)
	if err != nil {
		t.Fatal(err)
	}
	var shown *vlm.Inputs
	ans, err := AskImages(ctx, gen, []*vlm.RGB{img}, "What is shown?", Options{Params: generate.Params{MaxNewTokens: 8},
		InputsHook: func(in *vlm.Inputs) error { shown = in; return nil }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := gen.Processor().Chat([]*vlm.RGB{img}, "What is shown?")
	if shown == nil || inputsDigest(shown) != inputsDigest(want) {
		t.Error("AskImages did not use the plain chat prompt over the image")
	}
	res, err := gen.Generate(ctx, want, generate.Params{MaxNewTokens: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ans.Tokens, res.Tokens) || ans.Answer != res.Text {
		t.Errorf("AskImages gave %v %q, the generator %v %q", ans.Tokens, ans.Answer, res.Tokens, res.Text)
	}
	if ans.Sources == nil || len(ans.Sources) != 0 || ans.Question != "What is shown?" {
		t.Errorf("answer %+v: want the question and an empty (not null) source list", ans)
	}
	hookErr := errors.New("disk full")
	if _, err := AskImages(ctx, gen, []*vlm.RGB{img}, "x", Options{InputsHook: func(*vlm.Inputs) error { return hookErr }}, nil); !errors.Is(err, hookErr) {
		t.Errorf("inputs hook error: got %v", err)
	}
}

func TestCitations(t *testing.T) {
	tests := []struct {
		text string
		n    int
		want []int
	}{
		{"No citation here.", 3, []int{}},
		{"The total is 42 [2].", 3, []int{2}},
		{"See [2] and [1], and again [2].", 3, []int{2, 1}},
		{"Both pages agree [1, 3].", 3, []int{1, 3}},
		{"Spacing [ 2 ] is not a citation; [3,1] is.", 3, []int{3, 1}},
		{"Out of range [4] and [0] are dropped, [3] kept.", 3, []int{3}},
		{"Adjacent [1][2].", 2, []int{1, 2}},
		{"Not numbers: [a], [1a], [-1], [].", 3, []int{}},
		{"Huge [99999999999999999999] is ignored.", 3, []int{}},
	}
	for _, tc := range tests {
		if got := Citations(tc.text, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("Citations(%q, %d) = %v, want %v", tc.text, tc.n, got, tc.want)
		}
	}
}
