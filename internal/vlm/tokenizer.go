package vlm

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Tokenizer is a byte-level BPE tokenizer read from a Hugging Face tokenizer.json, in the layout SmolLM2 and
// SmolVLM use: no normalizer, a Digits and/or ByteLevel pre-tokenizer (GPT-2 split pattern), a BPE model with
// merges in either serialisation ("a b" strings or ["a","b"] pairs), a ByteLevel decoder, and added tokens that
// are split out of the text before anything else (leftmost-longest). It reproduces the ids of the Hugging Face
// tokenizers library for such files.
//
// No Go library matched the reference here (go-stack.md §3: sugarme/tokenizer mishandles added tokens and
// whitespace runs; daulet/tokenizers needs a Rust build), so the algorithm is implemented in this file.
// A Tokenizer is safe for concurrent use.
type Tokenizer struct {
	vocab        map[string]int64
	idToToken    map[int64]string
	merges       map[[2]int64]mergeRule
	ignoreMerges bool
	unkID        int64 // -1 when the model has no unk_token
	byteSym      [256]int64

	added      []addedToken
	addedByID  map[int64]*addedToken
	rawTrie    matcher // added tokens with normalized=false
	normTrie   matcher // added tokens with normalized=true (no normalizer is supported, so text is unchanged)
	digits     int     // 0: no Digits pre-tokenizer, 1: contiguous, 2: individual digits
	byteLevel  bool    // ByteLevel pre-tokenizer present
	useRegex   bool    // ByteLevel splits with the GPT-2 pattern
	prefixSp   bool    // ByteLevel add_prefix_space
	decodeByte bool    // ByteLevel decoder present
	template   []templatePiece

	cacheMu sync.RWMutex
	cache   map[string][]int64
}

type mergeRule struct {
	rank int
	id   int64
}

type addedToken struct {
	ID         int64  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// templatePiece is one element of a TemplateProcessing post-processor's "single" template: either the
// sequence itself (ids == nil) or fixed special-token ids.
type templatePiece struct {
	ids []int64
}

const maxCachedWords = 1 << 17

var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

// init builds the GPT-2 byte-to-unicode table: printable Latin-1 bytes keep their code point, the other 68
// bytes map to U+0100 upwards in byte order.
func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

type tokenizerFile struct {
	AddedTokens  []addedToken    `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	PostProc     json.RawMessage `json:"post_processor"`
	Decoder      json.RawMessage `json:"decoder"`
	Model        struct {
		Type         string           `json:"type"`
		Vocab        map[string]int64 `json:"vocab"`
		Merges       json.RawMessage  `json:"merges"`
		UnkToken     *string          `json:"unk_token"`
		IgnoreMerges bool             `json:"ignore_merges"`
		ByteFallback bool             `json:"byte_fallback"`
		Dropout      *float64         `json:"dropout"`
		ContPrefix   *string          `json:"continuing_subword_prefix"`
		EndSuffix    *string          `json:"end_of_word_suffix"`
	} `json:"model"`
}

// LoadTokenizer reads a tokenizer.json file.
func LoadTokenizer(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	t, err := ParseTokenizer(data)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	return t, nil
}

// ParseTokenizer builds a Tokenizer from the contents of a tokenizer.json file.
func ParseTokenizer(data []byte) (*Tokenizer, error) {
	var f tokenizerFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	if f.Model.Type != "BPE" {
		return nil, fmt.Errorf("model type %q is not supported (only byte-level BPE)", f.Model.Type)
	}
	if f.Model.Dropout != nil && *f.Model.Dropout > 0 {
		return nil, fmt.Errorf("BPE dropout %g is not supported", *f.Model.Dropout)
	}
	if (f.Model.ContPrefix != nil && *f.Model.ContPrefix != "") || (f.Model.EndSuffix != nil && *f.Model.EndSuffix != "") {
		return nil, fmt.Errorf("BPE continuing_subword_prefix / end_of_word_suffix are not supported")
	}
	if f.Model.ByteFallback {
		return nil, fmt.Errorf("BPE byte_fallback is not supported")
	}
	if !isNull(f.Normalizer) {
		return nil, fmt.Errorf("normalizer %s is not supported (only null)", string(f.Normalizer))
	}
	t := &Tokenizer{
		vocab:        f.Model.Vocab,
		idToToken:    make(map[int64]string, len(f.Model.Vocab)+len(f.AddedTokens)),
		ignoreMerges: f.Model.IgnoreMerges,
		unkID:        -1,
		addedByID:    map[int64]*addedToken{},
		cache:        map[string][]int64{},
	}
	for tok, id := range t.vocab {
		t.idToToken[id] = tok
	}
	if f.Model.UnkToken != nil {
		id, ok := t.vocab[*f.Model.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocabulary", *f.Model.UnkToken)
		}
		t.unkID = id
	}
	for b := 0; b < 256; b++ {
		if id, ok := t.vocab[string(byteToRune[b])]; ok {
			t.byteSym[b] = id
		} else {
			t.byteSym[b] = -1
		}
	}
	if err := t.parseMerges(f.Model.Merges); err != nil {
		return nil, err
	}
	t.added = f.AddedTokens
	var raw, norm []*addedToken
	for i := range t.added {
		a := &t.added[i]
		if a.Content == "" {
			continue
		}
		t.addedByID[a.ID] = a
		t.idToToken[a.ID] = a.Content
		if a.Normalized {
			norm = append(norm, a)
		} else {
			raw = append(raw, a)
		}
	}
	t.rawTrie = newMatcher(raw)
	t.normTrie = newMatcher(norm)
	if err := t.parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, err
	}
	if err := t.parseDecoder(f.Decoder); err != nil {
		return nil, err
	}
	if err := t.parsePostProcessor(f.PostProc); err != nil {
		return nil, err
	}
	return t, nil
}

func isNull(m json.RawMessage) bool {
	s := strings.TrimSpace(string(m))
	return s == "" || s == "null"
}

func (t *Tokenizer) parseMerges(raw json.RawMessage) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("model.merges: %w", err)
	}
	t.merges = make(map[[2]int64]mergeRule, len(items))
	for rank, it := range items {
		var a, b string
		var s string
		var pair []string
		if err := json.Unmarshal(it, &s); err == nil {
			i := strings.IndexByte(s, ' ')
			if i < 0 {
				return fmt.Errorf("merge %d %q has no space", rank, s)
			}
			a, b = s[:i], s[i+1:]
		} else if err := json.Unmarshal(it, &pair); err == nil && len(pair) == 2 {
			a, b = pair[0], pair[1]
		} else {
			return fmt.Errorf("merge %d is neither \"a b\" nor [\"a\",\"b\"]: %s", rank, string(it))
		}
		ia, oka := t.vocab[a]
		ib, okb := t.vocab[b]
		im, okm := t.vocab[a+b]
		if !oka || !okb || !okm {
			return fmt.Errorf("merge %d (%q, %q) uses a token missing from the vocabulary", rank, a, b)
		}
		k := [2]int64{ia, ib}
		if _, dup := t.merges[k]; !dup {
			t.merges[k] = mergeRule{rank: rank, id: im}
		}
	}
	return nil
}

type component struct {
	Type             string            `json:"type"`
	Pretokenizers    []json.RawMessage `json:"pretokenizers"`
	IndividualDigits bool              `json:"individual_digits"`
	AddPrefixSpace   bool              `json:"add_prefix_space"`
	UseRegex         *bool             `json:"use_regex"`
	Single           []map[string]struct {
		ID string `json:"id"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int64 `json:"ids"`
	} `json:"special_tokens"`
	Processors []json.RawMessage `json:"processors"`
	Decoders   []json.RawMessage `json:"decoders"`
}

func (t *Tokenizer) parsePreTokenizer(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("pre_tokenizer: %w", err)
	}
	switch c.Type {
	case "Sequence":
		order := []string{}
		for _, p := range c.Pretokenizers {
			var sub component
			if err := json.Unmarshal(p, &sub); err != nil {
				return fmt.Errorf("pre_tokenizer: %w", err)
			}
			order = append(order, sub.Type)
			if err := t.parsePreTokenizer(p); err != nil {
				return err
			}
		}
		if len(order) == 2 && !(order[0] == "Digits" && order[1] == "ByteLevel") {
			return fmt.Errorf("pre_tokenizer sequence %v is not supported (Digits then ByteLevel)", order)
		}
		if len(order) > 2 {
			return fmt.Errorf("pre_tokenizer sequence %v is not supported (Digits then ByteLevel)", order)
		}
	case "Digits":
		t.digits = 1
		if c.IndividualDigits {
			t.digits = 2
		}
	case "ByteLevel":
		t.byteLevel = true
		t.useRegex = c.UseRegex == nil || *c.UseRegex
		t.prefixSp = c.AddPrefixSpace
	default:
		return fmt.Errorf("pre_tokenizer %q is not supported (Digits, ByteLevel or a Sequence of them)", c.Type)
	}
	return nil
}

func (t *Tokenizer) parseDecoder(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	switch c.Type {
	case "ByteLevel":
		t.decodeByte = true
	case "Sequence":
		for _, d := range c.Decoders {
			if err := t.parseDecoder(d); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("decoder %q is not supported (only ByteLevel)", c.Type)
	}
	return nil
}

func (t *Tokenizer) parsePostProcessor(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("post_processor: %w", err)
	}
	switch c.Type {
	case "ByteLevel": // only adjusts offsets
	case "Sequence":
		for _, p := range c.Processors {
			if err := t.parsePostProcessor(p); err != nil {
				return err
			}
		}
	case "TemplateProcessing":
		t.template = nil
		for _, piece := range c.Single {
			if st, ok := piece["SpecialToken"]; ok {
				sp, ok := c.SpecialTokens[st.ID]
				if !ok {
					return fmt.Errorf("post_processor: special token %q has no ids", st.ID)
				}
				t.template = append(t.template, templatePiece{ids: sp.IDs})
			} else if _, ok := piece["Sequence"]; ok {
				t.template = append(t.template, templatePiece{})
			}
		}
	default:
		return fmt.Errorf("post_processor %q is not supported", c.Type)
	}
	return nil
}

// matcher finds added tokens leftmost-longest, as the Hugging Face AddedVocabulary does.
type matcher struct {
	byFirst map[byte][]*addedToken // candidates by first byte, longest first
}

func newMatcher(tokens []*addedToken) matcher {
	m := matcher{byFirst: map[byte][]*addedToken{}}
	for _, a := range tokens {
		m.byFirst[a.Content[0]] = append(m.byFirst[a.Content[0]], a)
	}
	for _, l := range m.byFirst {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].Content) > len(l[j].Content) })
	}
	return m
}

// span is a piece of the input: either an added token (tok != nil) or text to pre-tokenise.
type span struct {
	text string
	tok  *addedToken
}

// split cuts text around added tokens. A match must begin at the leftmost possible position; among matches
// there, the longest wins. lstrip/rstrip widen a match over neighbouring whitespace; single_word requires word
// boundaries around it.
func (m matcher) split(text string, out []span) []span {
	if len(m.byFirst) == 0 {
		return append(out, span{text: text})
	}
	start := 0 // beginning of pending plain text
	i := 0
	for i < len(text) {
		cands := m.byFirst[text[i]]
		var hit *addedToken
		for _, a := range cands {
			if strings.HasPrefix(text[i:], a.Content) {
				if a.SingleWord && !singleWordOK(text, i, i+len(a.Content)) {
					continue
				}
				hit = a
				break
			}
		}
		if hit == nil {
			i++
			continue
		}
		s, e := i, i+len(hit.Content)
		if hit.LStrip {
			for s > start {
				r, n := utf8.DecodeLastRuneInString(text[start:s])
				if !unicode.IsSpace(r) {
					break
				}
				s -= n
			}
		}
		if hit.RStrip {
			for e < len(text) {
				r, n := utf8.DecodeRuneInString(text[e:])
				if !unicode.IsSpace(r) {
					break
				}
				e += n
			}
		}
		if s > start {
			out = append(out, span{text: text[start:s]})
		}
		out = append(out, span{tok: hit})
		start, i = e, e
	}
	if start < len(text) {
		out = append(out, span{text: text[start:]})
	}
	return out
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func singleWordOK(text string, s, e int) bool {
	if s > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:s])
		if isWordRune(r) {
			return false
		}
	}
	if e < len(text) {
		r, _ := utf8.DecodeRuneInString(text[e:])
		if isWordRune(r) {
			return false
		}
	}
	return true
}

// Encode converts text to token ids. Added tokens in the text (e.g. "<image>") become their ids; no BOS or EOS
// is added unless the tokenizer.json has a TemplateProcessing post-processor.
func (t *Tokenizer) Encode(text string) []int64 {
	ids := make([]int64, 0, len(text)/3+8)
	var spans []span
	for _, sp := range t.rawTrie.split(text, nil) {
		if sp.tok != nil {
			spans = append(spans, sp)
			continue
		}
		spans = t.normTrie.split(sp.text, spans)
	}
	for _, sp := range spans {
		if sp.tok != nil {
			ids = append(ids, sp.tok.ID)
			continue
		}
		ids = t.encodePlain(sp.text, ids)
	}
	if len(t.template) > 0 {
		var out []int64
		for _, p := range t.template {
			if p.ids == nil {
				out = append(out, ids...)
			} else {
				out = append(out, p.ids...)
			}
		}
		return out
	}
	return ids
}

// encodePlain pre-tokenises a stretch of text free of added tokens and appends the BPE ids of every piece.
func (t *Tokenizer) encodePlain(text string, ids []int64) []int64 {
	if t.byteLevel && t.prefixSp && !strings.HasPrefix(text, " ") {
		text = " " + text
	}
	emit := func(piece string) {
		if t.byteLevel && t.useRegex {
			splitGPT2(piece, func(w string) { ids = t.bpeWord(w, ids) })
		} else {
			ids = t.bpeWord(piece, ids)
		}
	}
	if t.digits == 0 {
		emit(text)
		return ids
	}
	// Digits pre-tokenizer: numeric characters are isolated, one by one or as runs.
	start := 0
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsNumber(r) {
			i += n
			continue
		}
		if i > start {
			emit(text[start:i])
		}
		j := i + n
		if t.digits == 1 {
			for j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if !unicode.IsNumber(r2) {
					break
				}
				j += n2
			}
		}
		emit(text[i:j])
		start, i = j, j
	}
	if start < len(text) {
		emit(text[start:])
	}
	return ids
}

// splitGPT2 splits text as the GPT-2 pattern
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ does, calling fn for every match.
// A hand-written scanner: Go's regexp has no look-ahead, and this is several times faster than regexp2.
func splitGPT2(s string, fn func(string)) {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		// Contractions.
		if r == '\'' && i+1 < len(s) {
			rest := s[i+1:]
			l := 0
			switch {
			case strings.HasPrefix(rest, "re"), strings.HasPrefix(rest, "ve"), strings.HasPrefix(rest, "ll"):
				l = 3
			case rest[0] == 's' || rest[0] == 't' || rest[0] == 'm' || rest[0] == 'd':
				l = 2
			}
			if l > 0 {
				fn(s[i : i+l])
				i += l
				continue
			}
		}
		// Optional leading space followed by a letter, number or other run.
		j := i
		c := r
		if r == ' ' && i+1 < len(s) {
			c2, _ := utf8.DecodeRuneInString(s[i+1:])
			if !unicode.IsSpace(c2) {
				j = i + 1
				c = c2
			}
		}
		if !unicode.IsSpace(c) {
			class := runeClass(c)
			k := j
			for k < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[k:])
				if runeClass(r2) != class {
					break
				}
				k += n2
			}
			fn(s[i:k])
			i = k
			continue
		}
		// Whitespace run: \s+(?!\S) leaves the last space to the following word; \s+ takes a lone one.
		k := i + n
		last := i
		for k < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[k:])
			if !unicode.IsSpace(r2) {
				break
			}
			last = k
			k += n2
		}
		if k < len(s) && last > i {
			fn(s[i:last])
			i = last
			continue
		}
		fn(s[i:k])
		i = k
	}
}

// runeClass: 1 letter, 2 number, 3 other non-space, 0 space.
func runeClass(r rune) int {
	switch {
	case unicode.IsLetter(r):
		return 1
	case unicode.IsNumber(r):
		return 2
	case unicode.IsSpace(r):
		return 0
	}
	return 3
}

// bpeWord appends the ids of one pre-token (raw UTF-8; mapped to the byte-level alphabet here).
func (t *Tokenizer) bpeWord(w string, ids []int64) []int64 {
	if w == "" {
		return ids
	}
	t.cacheMu.RLock()
	c, ok := t.cache[w]
	t.cacheMu.RUnlock()
	if ok {
		return append(ids, c...)
	}
	var word []int64
	if t.byteLevel {
		if t.ignoreMerges {
			if id, ok := t.vocab[byteLevelString(w)]; ok {
				word = []int64{id}
			}
		}
		if word == nil {
			word = make([]int64, 0, len(w))
			for i := 0; i < len(w); i++ {
				if id := t.byteSym[w[i]]; id >= 0 {
					word = append(word, id)
				} else if t.unkID >= 0 && (len(word) == 0 || word[len(word)-1] != t.unkID) {
					word = append(word, t.unkID)
				}
			}
		}
	} else {
		if id, ok := t.vocab[w]; ok && t.ignoreMerges {
			word = []int64{id}
		} else {
			for _, r := range w {
				if id, ok := t.vocab[string(r)]; ok {
					word = append(word, id)
				} else if t.unkID >= 0 {
					word = append(word, t.unkID)
				}
			}
		}
	}
	word = t.applyMerges(word)
	t.cacheMu.Lock()
	if len(t.cache) < maxCachedWords {
		t.cache[w] = word
	}
	t.cacheMu.Unlock()
	return append(ids, word...)
}

// applyMerges repeatedly merges the adjacent pair with the lowest merge rank (leftmost on ties).
func (t *Tokenizer) applyMerges(word []int64) []int64 {
	for len(word) > 1 {
		best, at := -1, -1
		var bestID int64
		for i := 0; i+1 < len(word); i++ {
			if m, ok := t.merges[[2]int64{word[i], word[i+1]}]; ok && (best < 0 || m.rank < best) {
				best, at, bestID = m.rank, i, m.id
			}
		}
		if at < 0 {
			break
		}
		word[at] = bestID
		word = append(word[:at+1], word[at+2:]...)
	}
	return word
}

func byteLevelString(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		sb.WriteRune(byteToRune[s[i]])
	}
	return sb.String()
}

// Decode converts ids back to text. With skipSpecial, added tokens marked special are left out. Ids unknown to
// the tokenizer are skipped. Invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD as in the
// reference library.
func (t *Tokenizer) Decode(ids []int64, skipSpecial bool) string {
	var raw []byte
	for _, id := range ids {
		if a, ok := t.addedByID[id]; ok {
			if skipSpecial && a.Special {
				continue
			}
		}
		tok, ok := t.idToToken[id]
		if !ok {
			continue
		}
		if !t.decodeByte {
			if len(raw) > 0 {
				raw = append(raw, ' ')
			}
			raw = append(raw, tok...)
			continue
		}
		// ByteLevel decoder: every rune maps back to a byte; a token holding a rune outside the byte alphabet is
		// kept as its own UTF-8 bytes.
		mark := len(raw)
		for _, r := range tok {
			b, ok := runeToByte[r]
			if !ok {
				raw = append(raw[:mark], tok...)
				break
			}
			raw = append(raw, b)
		}
	}
	return lossyUTF8(raw)
}

// lossyUTF8 replaces each maximal ill-formed subsequence with U+FFFD (Rust's String::from_utf8_lossy, which
// follows the Unicode recommendation; Go's strings.ToValidUTF8 would merge whole runs instead).
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[i : i+n])
			i += n
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return sb.String()
}

// maximalSubpart returns how many bytes of an ill-formed sequence at the start of b form one maximal subpart.
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	i := 1
	for k := 0; k < need && i < len(b); k++ {
		x := b[i]
		if k == 0 {
			if x < lo || x > hi {
				break
			}
		} else if x < 0x80 || x > 0xBF {
			break
		}
		i++
	}
	return i
}

// TokenID returns the id of a token string (an added token such as "<image>" or a vocabulary entry in the
// byte-level alphabet).
func (t *Tokenizer) TokenID(token string) (int64, bool) {
	for i := range t.added {
		if t.added[i].Content == token {
			return t.added[i].ID, true
		}
	}
	id, ok := t.vocab[token]
	return id, ok
}

// IDToken returns the token string of an id.
func (t *Tokenizer) IDToken(id int64) (string, bool) {
	s, ok := t.idToToken[id]
	return s, ok
}

// IsSpecial reports whether id is an added token marked special (left out by Decode with skipSpecial).
func (t *Tokenizer) IsSpecial(id int64) bool {
	a, ok := t.addedByID[id]
	return ok && a.Special
}

// VocabSize returns one more than the largest token id (the embedding rows a model needs).
func (t *Tokenizer) VocabSize() int {
	var maxID int64 = -1
	for id := range t.idToToken {
		if id > maxID {
			maxID = id
		}
	}
	return int(maxID + 1)
}
