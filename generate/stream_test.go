package generate

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/colsmol/colsmol/internal/vlm"
)

// TestTextStream feeds successive decoded texts and checks the pieces handed out.
func TestTextStream(t *testing.T) {
	const bad = "\uFFFD"
	tests := []struct {
		name  string
		texts []string // decoded text after each token; the last one is final
		want  []string
	}{
		{"plain words", []string{" The", " The cat", " The cat."}, []string{"The", " cat", "."}},
		{"leading spaces held until text", []string{" ", " \n", " \nA"}, []string{"", "", "A"}},
		{"cut two-byte character", []string{"caf", "caf" + bad, "café"}, []string{"caf", "", "é"}},
		{"cut four-byte character", []string{"a" + bad, "a" + bad, "a" + bad, "a🙂"}, []string{"a", "", "", "🙂"}},
		{"invalid bytes mid-text are passed on", []string{"x" + bad, "x" + bad + "y"}, []string{"x", bad + "y"}},
		{"final flush of a cut tail", []string{"ok", "ok" + bad}, []string{"ok", bad}},
		{"empty", []string{"", ""}, []string{"", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s textStream
			for i, text := range tc.texts {
				got := s.next(text, i == len(tc.texts)-1)
				if got != tc.want[i] {
					t.Errorf("step %d (%q): piece %q, want %q", i, text, got, tc.want[i])
				}
			}
		})
	}
}

// TestTextStreamByteTokens streams text whose multi-byte characters the tiny tokenizer splits into one token
// per byte: no piece may hold part of a character, and the pieces must add up to the decoded text.
func TestTextStreamByteTokens(t *testing.T) {
	tok, err := vlm.LoadTokenizer(tinyDir() + "/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	const text = " Résumé: 🙂 これは猫です"
	ids := tok.Encode(text)
	if len(ids) <= utf8.RuneCountInString(text)/2 {
		t.Fatalf("only %d tokens for %q; the test needs characters split over several tokens", len(ids), text)
	}
	var s textStream
	var sb strings.Builder
	held := 0
	for i := range ids {
		piece := s.next(tok.Decode(ids[:i+1], true), i == len(ids)-1)
		if !utf8.ValidString(piece) || strings.ContainsRune(piece, utf8.RuneError) {
			t.Fatalf("token %d: piece %q is not whole characters", i, piece)
		}
		if piece == "" {
			held++
		}
		sb.WriteString(piece)
	}
	if got, want := sb.String(), strings.TrimLeft(text, " "); got != want {
		t.Errorf("pieces add up to %q, want %q", got, want)
	}
	if held == 0 {
		t.Error("no token was held back; the text has no split characters")
	}
}
