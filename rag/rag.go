// Package rag answers questions from indexed pages: it embeds the question, retrieves the best pages, shows them
// to SmolVLM in one multi-image prompt, and returns the answer with the pages it came from.
package rag

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/generate"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/internal/vlm"
)

// Source is one retrieved page shown to the generator; Label is its citation number in the answer ([1], [2], ...).
type Source struct {
	Label int     `json:"label"`
	DocID string  `json:"doc_id"`
	Path  string  `json:"path"`
	Page  int     `json:"page"`
	Score float32 `json:"score"`
}

// Answer is the result of Ask, in the JSON shape of `colsmol ask --json`.
type Answer struct {
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Sources  []Source `json:"sources"`
	Cited    []int    `json:"cited"`  // labels of the sources the answer cites, in order of first mention
	Tokens   []int64  `json:"tokens"` // generated token ids (the stop token included when generated)
}

// PageLoader returns the image of a retrieved page for the generator.
type PageLoader func(ctx context.Context, r index.Result) (*vlm.RGB, error)

// Options configure Ask.
type Options struct {
	K      int             // pages to retrieve; 0 means 2
	Params generate.Params // generation parameters
	// LoadPage returns a page's image; nil uses the preview image stored in the index.
	LoadPage PageLoader
	// InputsHook, when set, receives the generator inputs before generation (for --inputs-out).
	InputsHook func(*vlm.Inputs) error
}

// StoredPage loads a page's image from the index: its preview (longest side up to 1536 pixels), or its
// thumbnail when the page was stored without a preview.
func StoredPage(st *index.Store) PageLoader {
	return func(_ context.Context, r index.Result) (*vlm.RGB, error) {
		b, err := st.PageImage(r.DocID, r.Page, false)
		if err == nil && len(b) == 0 {
			b, err = st.PageImage(r.DocID, r.Page, true)
		}
		if err != nil {
			return nil, err
		}
		if len(b) == 0 {
			return nil, errors.New("the index holds no image of this page; index the file again with `colsmol index`")
		}
		return vlm.DecodeImage(b, vlm.AlphaWhite)
	}
}

// Instruction is the text that follows the page images in a retrieval prompt.
const Instruction = "The images above are pages %s, in that order. Answer the question from these pages only, and cite the pages you used as [1], [2], ... Question: %s"

// Ask retrieves the o.K best pages for question and answers from them: the pages are shown to the generator in
// rank order, labelled [1]..[k] by the instruction that follows them, and the answer's Sources are those pages
// in the same order. onToken (may be nil) receives the answer text as it is generated, in pieces of whole
// characters that add up to the answer; an error from it stops the generation. Errors wrap
// generate.ErrContextTooLong when the pages do not fit the generator's context.
func Ask(ctx context.Context, st *index.Store, em *embed.Embedder, gen *generate.Generator, question string, o Options, onToken func(text string) error) (*Answer, error) {
	question = strings.TrimSpace(question)
	if question == "" {
		return nil, errors.New("ask: the question is empty")
	}
	k := o.K
	if k <= 0 {
		k = 2
	}
	q, err := em.EmbedQuery(ctx, question)
	if err != nil {
		return nil, fmt.Errorf("ask: embed the question: %w", err)
	}
	hits, err := st.Search(q, k, index.SearchOptions{})
	if err != nil {
		return nil, fmt.Errorf("ask: search: %w", err)
	}
	if len(hits) == 0 {
		return nil, errors.New("ask: the index holds no pages yet; index documents first with `colsmol index PATH`")
	}
	load := o.LoadPage
	if load == nil {
		load = StoredPage(st)
	}
	imgs := make([]*vlm.RGB, 0, len(hits))
	sources := make([]Source, 0, len(hits))
	for i, h := range hits {
		img, err := load(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("ask: load page %d of %s: %w", h.Page, h.Path, err)
		}
		imgs = append(imgs, img)
		sources = append(sources, Source{Label: i + 1, DocID: h.DocID, Path: h.Path, Page: h.Page, Score: h.Score})
	}
	labels := make([]string, len(sources))
	for i := range sources {
		labels[i] = fmt.Sprintf("[%d]", i+1)
	}
	prompt := fmt.Sprintf(Instruction, strings.Join(labels, ", "), question)
	ans, err := AskImages(ctx, gen, imgs, prompt, o, onToken)
	if err != nil {
		return nil, err
	}
	ans.Question = question
	ans.Sources = sources
	ans.Cited = Citations(ans.Answer, len(sources))
	return ans, nil
}

// AskImages answers text about the given images with the plain SmolVLM chat prompt (images first, then the
// text), without retrieval.
func AskImages(ctx context.Context, gen *generate.Generator, imgs []*vlm.RGB, text string, o Options, onToken func(text string) error) (*Answer, error) {
	in, err := gen.Processor().Chat(imgs, text)
	if err != nil {
		return nil, fmt.Errorf("ask: build the prompt: %w", err)
	}
	if o.InputsHook != nil {
		if err := o.InputsHook(in); err != nil {
			return nil, err
		}
	}
	var cb func(int64, string) error
	if onToken != nil {
		cb = func(_ int64, s string) error {
			if s == "" {
				return nil
			}
			return onToken(s)
		}
	}
	res, err := gen.Generate(ctx, in, o.Params, cb)
	if err != nil {
		return nil, fmt.Errorf("ask: %w", err)
	}
	return &Answer{Question: text, Answer: res.Text, Tokens: res.Tokens, Sources: []Source{}, Cited: []int{}}, nil
}

var citationRE = regexp.MustCompile(`\[(\d+(?:\s*,\s*\d+)*)\]`)

// Citations returns the source labels cited in text as [n] or [n, m], in order of first mention, keeping only
// labels between 1 and n.
func Citations(text string, n int) []int {
	seen := map[int]bool{}
	out := []int{}
	for _, m := range citationRE.FindAllStringSubmatch(text, -1) {
		for _, part := range strings.Split(m[1], ",") {
			v, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || v < 1 || v > n || seen[v] {
				continue
			}
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
