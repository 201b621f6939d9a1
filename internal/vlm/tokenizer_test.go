package vlm

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var tokDir = filepath.Join("..", "..", "testdata", "tokenizer")

type tokGolden struct {
	Text          string  `json:"text"`
	IDs           []int64 `json:"ids"`
	Decoded       string  `json:"decoded"`
	DecodedSkip   string  `json:"decoded_skip_special"`
	PrefixLen     int     `json:"prefix_len"`
	DecodedPrefix string  `json:"decoded_prefix"`
}

func loadTokGoldens(t testing.TB) []tokGolden {
	var g struct {
		Cases []tokGolden `json:"cases"`
	}
	readGolden(t, filepath.Join(tokDir, "goldens.json"), &g)
	return g.Cases
}

// The goldens come from the official Hugging Face tokenizers npm package (scripts/tokenizer/goldens.js); both
// merge serialisations must give exactly its ids and decoded strings.
func TestTokenizerMatchesHuggingFace(t *testing.T) {
	cases := loadTokGoldens(t)
	for _, file := range []string{"tokenizer.json", "tokenizer-merges-strings.json"} {
		t.Run(file, func(t *testing.T) {
			tok, err := LoadTokenizer(filepath.Join(tokDir, file))
			if err != nil {
				t.Fatal(err)
			}
			fails := 0
			for _, c := range cases {
				got := tok.Encode(c.Text)
				if !reflect.DeepEqual(got, c.IDs) && !(len(got) == 0 && len(c.IDs) == 0) {
					fails++
					if fails <= 10 {
						t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
					}
				}
				if d := tok.Decode(c.IDs, false); d != c.Decoded {
					t.Errorf("Decode(%v, false) = %q, want %q", c.IDs, d, c.Decoded)
				}
				if d := tok.Decode(c.IDs, true); d != c.DecodedSkip {
					t.Errorf("Decode(%v, true) = %q, want %q", c.IDs, d, c.DecodedSkip)
				}
				if c.PrefixLen > 0 {
					if d := tok.Decode(c.IDs[:c.PrefixLen], false); d != c.DecodedPrefix {
						t.Errorf("Decode(prefix %v) = %q, want %q", c.IDs[:c.PrefixLen], d, c.DecodedPrefix)
					}
				}
			}
			if fails > 0 {
				t.Errorf("%d of %d texts encode differently", fails, len(cases))
			}
		})
	}
}

// The SmolVLM special tokens keep their real ids (models.md §3.5).
func TestTokenizerSpecialIDs(t *testing.T) {
	tok, err := LoadTokenizer(filepath.Join(tokDir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"<|endoftext|>": 0, "<|im_start|>": 1, "<|im_end|>": 2, "<global-img>": 49152, "<row_1_col_1>": 49153,
		"<row_1_col_2>": 49154, "<row_2_col_1>": 49159, "<row_6_col_6>": 49188, "<fake_token_around_image>": 49189,
		"<image>": 49190, "<|reserved_special_token_0|>": 49191, "<end_of_utterance>": 49279,
	}
	for s, id := range want {
		if got, ok := tok.TokenID(s); !ok || got != id {
			t.Errorf("TokenID(%q) = %d, %v; want %d", s, got, ok, id)
		}
		if got := tok.Encode(s); len(got) != 1 || got[0] != id {
			t.Errorf("Encode(%q) = %v, want [%d]", s, got, id)
		}
	}
	if _, ok := tok.TokenID("<row_7_col_1>"); ok {
		t.Error("<row_7_col_1> must not be a token")
	}
	if !tok.IsSpecial(49190) || tok.IsSpecial(300) {
		t.Error("IsSpecial wrong")
	}
	if got := tok.VocabSize(); got != 49280 {
		t.Errorf("VocabSize = %d, want 49280", got)
	}
}

func TestTokenizerRejectsUnsupported(t *testing.T) {
	base, err := os.ReadFile(filepath.Join(tokDir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string][2]string{
		"unigram":    {`"type": "BPE"`, `"type": "Unigram"`},
		"normalizer": {`"normalizer": null`, `"normalizer": {"type": "NFC"}`},
		"metaspace":  {`"type": "Digits"`, `"type": "Metaspace"`},
	} {
		data := strings.Replace(string(base), edit[0], edit[1], 1)
		if data == string(base) {
			t.Fatalf("%s: edit did not apply", name)
		}
		if _, err := ParseTokenizer([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseTokenizer([]byte("{")); err == nil {
		t.Error("broken JSON accepted")
	}
}

func BenchmarkTokenizerEncode(b *testing.B) {
	tok, err := LoadTokenizer(filepath.Join(tokDir, "tokenizer.json"))
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for _, c := range loadTokGoldens(b) {
		sb.WriteString(c.Text)
	}
	text := sb.String()
	n := len(tok.Encode(text))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.cacheMu.Lock()
		clear(tok.cache) // measure real BPE work, not only cache hits
		tok.cacheMu.Unlock()
		tok.Encode(text)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
