package generate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/colsmol/colsmol/internal/vlm"
)

// maxAbsDiff returns the largest absolute difference between two rows of equal length.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// generateLogits runs a greedy generation and returns its tokens and the logits row of every step.
func generateLogits(t *testing.T, g *Generator, in *vlm.Inputs, n int) ([]int64, [][]float32) {
	t.Helper()
	var rows [][]float32
	gg := *g
	gg.logitsHook = func(_ int, l []float32) { rows = append(rows, slices.Clone(l)) }
	res, err := gg.Generate(context.Background(), in, Params{MaxNewTokens: n}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Tokens, rows
}

// TestKVCacheMatchesFullRecompute checks the cached loop against the decoder run on the whole sequence with no
// cache at every step: same logits (to float rounding) and the same greedy tokens.
func TestKVCacheMatchesFullRecompute(t *testing.T) {
	g := openTiny(t, Options{PrefillChunk: -1})
	in := chatInputs(t, g, "What is shown?", "wide-4x1.png")
	const steps = 5
	tokens, cached := generateLogits(t, g, in, steps)
	if len(tokens) != steps {
		t.Fatalf("%d tokens, want %d (the tiny model should not stop this early)", len(tokens), steps)
	}
	ctx := context.Background()
	prompt, D, err := g.embedIDs(ctx, in.InputIDs)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.mergeImages(ctx, in, prompt, D); err != nil {
		t.Fatal(err)
	}
	seq := slices.Clone(prompt)
	for k := 0; k < steps; k++ {
		n := len(seq) / D
		full, _, err := g.decode(ctx, seq, n, D, g.emptyCache())
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(full, cached[k]); d > 1e-4 {
			t.Errorf("step %d: logits with the cache differ from a full recompute by %.3g", k, d)
		}
		if got := int64(argmax(full)); got != tokens[k] {
			t.Errorf("step %d: full recompute picks %d, the cached loop picked %d", k, got, tokens[k])
		}
		e, _, err := g.embedIDs(ctx, []int64{tokens[k]})
		if err != nil {
			t.Fatal(err)
		}
		seq = append(seq, e...)
	}
}

// TestChunkedPrefillMatchesWholePrompt checks that feeding the prompt in pieces over the cache (long prompts)
// gives what one run over the whole prompt gives.
func TestChunkedPrefillMatchesWholePrompt(t *testing.T) {
	whole := openTiny(t, Options{PrefillChunk: -1})
	in := chatInputs(t, whole, "Describe the colours of this image.", "banner-2x1.png")
	wantTok, wantRows := generateLogits(t, whole, in, 4)
	for _, chunk := range []int{1000, 300, 97} {
		g := *whole
		g.prefillChunk = chunk
		gotTok, gotRows := generateLogits(t, &g, in, 4)
		if !slices.Equal(gotTok, wantTok) {
			t.Errorf("chunk %d: tokens %v, whole prompt gives %v", chunk, gotTok, wantTok)
		}
		for k := range gotRows {
			if d := maxAbsDiff(gotRows[k], wantRows[k]); d > 1e-4 {
				t.Errorf("chunk %d step %d: logits differ by %.3g", chunk, k, d)
			}
		}
	}
}

// TestContextGuard checks the refusal of a prompt longer than the context and the clamped budget of one
// that nearly fills it, on a copy of the tiny model whose config says max_position_embeddings 400.
func TestContextGuard(t *testing.T) {
	needORT(t)
	replaced := false
	dir := copyTiny(t, func(name string, b []byte) []byte {
		if name != "config.json" {
			return b
		}
		s := strings.Replace(string(b), `"max_position_embeddings": 8192`, `"max_position_embeddings": 400`, 1)
		replaced = s != string(b)
		return []byte(s)
	})
	if !replaced {
		t.Fatal("config.json of the tiny model has no max_position_embeddings 8192 to replace")
	}
	g, err := Open(dir, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.ContextLength() != 400 {
		t.Fatalf("context length %d, want 400", g.ContextLength())
	}
	long := chatInputs(t, g, "What is shown?", "banner-2x1.png") // 615 tokens
	_, err = g.Generate(context.Background(), long, Params{MaxNewTokens: 4}, nil)
	if !errors.Is(err, ErrContextTooLong) {
		t.Fatalf("err = %v, want ErrContextTooLong", err)
	}
	for _, want := range []string{fmt.Sprintf("%d tokens", len(long.InputIDs)), "400", "--k"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not mention %q", err, want)
		}
	}
	short := chatInputs(t, g, "What is shown?", "wide-4x1.png") // 350 tokens
	res, err := g.Generate(context.Background(), short, Params{MaxNewTokens: 200}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Tokens); res.StopReason != "length" || n != 400-len(short.InputIDs) {
		t.Errorf("%d tokens (stop: %s) after a %d-token prompt, want the budget of 200 clamped to %d", n, res.StopReason, len(short.InputIDs), 400-len(short.InputIDs))
	}
}

// TestStreamPiecesAddUpToAnswer checks that the streamed pieces are the answer, and that no piece is invalid
// UTF-8 or holds a replacement character, on a real generation.
func TestStreamPiecesAddUpToAnswer(t *testing.T) {
	g := openTiny(t, Options{})
	// The tiny tokenizer knows 4,224 of the 49,280 ids, so most tokens decode to nothing; this case gives text.
	in := chatInputs(t, g, "What is shown?", "wide-4x1.png")
	var pieces []string
	var ids []int64
	res, err := g.Generate(context.Background(), in, Params{MaxNewTokens: 24}, func(id int64, s string) error {
		ids = append(ids, id)
		pieces = append(pieces, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, res.Tokens) {
		t.Errorf("callback saw %v, result has %v", ids, res.Tokens)
	}
	if got := strings.TrimSpace(strings.Join(pieces, "")); got != res.Text {
		t.Errorf("pieces add up to %q, the answer is %q", got, res.Text)
	}
	if res.Text == "" {
		t.Error("empty answer")
	}
	// An error from the callback stops generation.
	stop := errors.New("client went away")
	n := 0
	_, err = g.Generate(context.Background(), in, Params{MaxNewTokens: 24}, func(int64, string) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("after a callback error: err %v after %d calls, want the error after 3", err, n)
	}
	// A cancelled context stops it too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Generate(ctx, in, Params{MaxNewTokens: 4}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}

// TestStopToken checks that generation stops on generation_config.json's eos_token_id: on a copy of the tiny
// model whose stop id is the 4th greedy token of a prompt, the answer ends there and leaves the stop token out.
func TestStopToken(t *testing.T) {
	g := openTiny(t, Options{})
	in := chatInputs(t, g, "What is shown?", "wide-4x1.png")
	full, err := g.Generate(context.Background(), in, Params{MaxNewTokens: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if full.StopReason != "length" || len(full.Tokens) != 8 {
		t.Fatalf("stop %s after %d tokens; the tiny model should run to the budget", full.StopReason, len(full.Tokens))
	}
	stopID := full.Tokens[3]
	if slices.Index(full.Tokens, stopID) != 3 {
		t.Fatalf("token %d appears before step 3 in %v", stopID, full.Tokens)
	}
	dir := copyTiny(t, func(name string, b []byte) []byte {
		if name == "generation_config.json" {
			return []byte(fmt.Sprintf(`{"bos_token_id": 1, "eos_token_id": [%d, 49279], "pad_token_id": 2}`, stopID))
		}
		return b
	})
	s, err := Open(dir, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pieces []string
	res, err := s.Generate(context.Background(), in, Params{MaxNewTokens: 8}, func(_ int64, p string) error {
		pieces = append(pieces, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.StopReason != "eos" || !slices.Equal(res.Tokens, full.Tokens[:4]) {
		t.Errorf("stop %s with %v, want eos with %v", res.StopReason, res.Tokens, full.Tokens[:4])
	}
	if want := strings.TrimSpace(g.Processor().Tok.Decode(full.Tokens[:3], true)); res.Text != want {
		t.Errorf("text %q, want the first three tokens' %q", res.Text, want)
	}
	if len(pieces) != 4 {
		t.Errorf("%d callbacks for 4 tokens", len(pieces))
	}
}
