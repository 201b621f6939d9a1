package generate

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// textStream turns the decoded text of the tokens generated so far into the pieces to print, so that the
// pieces put together are the final answer: leading white space is dropped (the answer is trimmed), and a
// character whose bytes are split over several tokens is held back until it is complete, so that a terminal
// never receives half of a UTF-8 sequence or a replacement character for one.
//
// It relies on the byte-level decoder's property that decoding a prefix of the ids gives a prefix of the
// bytes: only a cut character at the end of the text (decoded as U+FFFD) can change later.
type textStream struct {
	sent    string // text already handed out, leading white space included
	started bool   // a non-space character has been handed out
}

// next returns the new piece for the full decoded text of all tokens so far; final flushes what was held back.
func (s *textStream) next(text string, final bool) string {
	if !strings.HasPrefix(text, s.sent) {
		// Not expected from a byte-level decoder; hand out nothing rather than text that would not add up.
		return ""
	}
	ready := text
	if !final {
		ready = strings.TrimRightFunc(text, func(r rune) bool { return r == utf8.RuneError })
		if len(ready) < len(s.sent) {
			return ""
		}
	}
	piece := ready[len(s.sent):]
	s.sent = ready
	if !s.started {
		piece = strings.TrimLeftFunc(piece, unicode.IsSpace)
		s.started = piece != ""
	}
	return piece
}
