package generate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// parityGoldens is generate/testdata/parity/goldens.json, made by scripts/generate/make-goldens.sh with
// transformers.js (Idefics3ForConditionalGeneration.generate, greedy) from the inputs colsmol builds.
type parityGoldens struct {
	Reference    string `json:"reference"`
	MaxNewTokens int    `json:"max_new_tokens"`
	Cases        []struct {
		Name              string    `json:"name"`
		Images            []string  `json:"images"`
		Question          string    `json:"question"`
		PromptTokens      int       `json:"prompt_tokens"`
		Tiles             int       `json:"tiles"`
		InputIDsSHA256    string    `json:"input_ids_sha256"`
		PixelValuesSHA256 string    `json:"pixel_values_sha256"`
		Tokens            []int64   `json:"tokens"`
		Top1Logits        []float64 `json:"top1_logits"`
		Top2Margins       []float64 `json:"top2_margins"`
		MinMargin         float64   `json:"min_margin"`
	} `json:"cases"`
}

// leSHA256 hashes the little-endian bytes of a slice of fixed-size numbers, as NumPy stores them in .npy.
func leSHA256(data any) string {
	h := sha256.New()
	if err := binary.Write(h, binary.LittleEndian, data); err != nil {
		panic(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestGreedyMatchesTransformersJS checks that colsmol's greedy ids equal transformers.js's on the tiny
// generator, case by case, for inputs proven byte-identical to the reference's by their sha256.
func TestGreedyMatchesTransformersJS(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "generate", "testdata", "parity", "goldens.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gold parityGoldens
	if err := json.Unmarshal(b, &gold); err != nil {
		t.Fatal(err)
	}
	if len(gold.Cases) < 5 {
		t.Fatalf("goldens hold %d cases, want several", len(gold.Cases))
	}
	g := openTiny(t, Options{})
	distinct := map[string]bool{}
	for _, c := range gold.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := chatInputs(t, g, c.Question, c.Images...)
			if len(in.InputIDs) != c.PromptTokens || in.NumTiles() != c.Tiles {
				t.Fatalf("prompt: %d tokens, %d tiles; the reference had %d tokens, %d tiles", len(in.InputIDs), in.NumTiles(), c.PromptTokens, c.Tiles)
			}
			if got := leSHA256(in.InputIDs); got != c.InputIDsSHA256 {
				t.Fatalf("input_ids sha256 %s, the reference was fed %s: the inputs differ, so the comparison would mean nothing", got, c.InputIDsSHA256)
			}
			if got := leSHA256(in.PixelValues); got != c.PixelValuesSHA256 {
				t.Fatalf("pixel_values sha256 %s, the reference was fed %s", got, c.PixelValuesSHA256)
			}
			if c.MinMargin < 1e-3 {
				t.Errorf("the reference has a greedy step with a top-2 margin of %.2g: tie-prone, choose other inputs", c.MinMargin)
			}
			var top1 []float32
			gg := *g
			gg.logitsHook = func(_ int, l []float32) { top1 = append(top1, l[argmax(l)]) }
			res, err := gg.Generate(context.Background(), in, Params{MaxNewTokens: gold.MaxNewTokens}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Tokens, c.Tokens) {
				t.Fatalf("tokens differ from transformers.js\n got %v\nwant %v", res.Tokens, c.Tokens)
			}
			// The same ids from logits that are also close: the loop computes what the reference computes.
			for i := range top1 {
				if d := math.Abs(float64(top1[i]) - c.Top1Logits[i]); d > 1e-4 {
					t.Errorf("step %d: top logit %.6f, reference %.6f", i, top1[i], c.Top1Logits[i])
				}
			}
			distinct[string(json.RawMessage(must(json.Marshal(res.Tokens))))] = true
		})
	}
	// The generator must look at the image: different images give different answers.
	if len(distinct) != len(gold.Cases) {
		t.Errorf("%d distinct answers for %d cases; the tiny generator's output does not depend on its inputs", len(distinct), len(gold.Cases))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
