package generate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/colsmol/colsmol/internal/modelbuild"
	"github.com/colsmol/colsmol/internal/vlm"
)

// greedyAgreement compares a quantized generator q with the reference f on one prompt: f generates n greedy
// tokens; q is fed f's tokens (teacher forcing) and must pick the same token at each step. It returns how
// many of the n steps agree and the length of the identical prefix of q's own greedy generation.
func greedyAgreement(t testing.TB, f, q *Generator, in *vlm.Inputs, n int) (steps, prefix int) {
	t.Helper()
	ctx := context.Background()
	ref, err := f.Generate(ctx, in, Params{MaxNewTokens: n}, nil)
	if err != nil {
		t.Fatal(err)
	}
	own, err := q.Generate(ctx, in, Params{MaxNewTokens: n}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for prefix < min(len(own.Tokens), len(ref.Tokens)) && own.Tokens[prefix] == ref.Tokens[prefix] {
		prefix++
	}
	logits, cache, D, err := q.prefill(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for k, tok := range ref.Tokens {
		if int64(argmax(logits)) == tok {
			steps++
		}
		if k == len(ref.Tokens)-1 {
			break
		}
		e, _, err := q.embedIDs(ctx, []int64{tok})
		if err != nil {
			t.Fatal(err)
		}
		if logits, cache, err = q.decode(ctx, e, 1, D, cache); err != nil {
			t.Fatal(err)
		}
	}
	return steps, prefix
}

// TestInt8GreedyAgreement measures how often the int8 build of the tiny generator (`model convert
// --precision int8`, same seed as the committed fp32 one) picks fp32's greedy token, over the parity cases.
// The figure goes to the README (issue 11); the test fails only if int8 is broken outright.
func TestInt8GreedyAgreement(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an int8 model")
	}
	f := openTiny(t, Options{})
	out := filepath.Join(t.TempDir(), "tiny-smolvlm-int8")
	err := modelbuild.Convert(context.Background(), modelbuild.ConvertOptions{Random: true, Preset: "tiny-smolvlm", Seed: 1,
		Precision: "int8", Out: out, Tokenizer: filepath.Join(repoRoot(), "testdata", "tokenizer")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := Open(out, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "generate", "testdata", "parity", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Cases []struct {
			Name, Question string
			Images         []string
		}
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	const n = 24
	var steps, prefix, firsts, total int
	for _, c := range spec.Cases {
		in := chatInputs(t, f, c.Question, c.Images...)
		s, p := greedyAgreement(t, f, q, in, n)
		t.Logf("%-16s int8 picks fp32's token at %2d of %d steps; identical prefix %2d", c.Name, s, n, p)
		steps, prefix, total = steps+s, prefix+p, total+n
		if p > 0 {
			firsts++
		}
	}
	t.Logf("tiny-smolvlm int8 vs fp32 over %d prompts: %.1f%% of teacher-forced greedy steps agree; first token agrees in %d of %d; mean identical prefix %.1f of %d tokens",
		len(spec.Cases), 100*float64(steps)/float64(total), firsts, len(spec.Cases), float64(prefix)/float64(len(spec.Cases)), n)
	if steps*2 < total {
		t.Errorf("int8 agrees with fp32 at only %d of %d greedy steps", steps, total)
	}
}
