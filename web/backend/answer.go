package backend

import (
	"context"
	"fmt"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/generate"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/rag"
	"github.com/colsmol/colsmol/web"
)

// Answerer adapts rag.Ask to web.Answerer.
type Answerer struct {
	Store     *index.Store
	Embedder  *embed.Embedder
	Generator *generate.Generator
	Params    generate.Params // generation parameters of every answer (max new tokens, sampling)
}

var _ web.Answerer = Answerer{}

// Ask implements web.Answerer.
func (a Answerer) Ask(ctx context.Context, question string, k int, onToken func(string) error) (*web.Answer, error) {
	docs, err := a.Store.Documents()
	if err != nil {
		return nil, mapErr(err)
	}
	if len(docs) == 0 {
		return nil, web.ErrNoPages
	}
	ans, err := rag.Ask(ctx, a.Store, a.Embedder, a.Generator, question, rag.Options{K: k, Params: a.Params}, onToken)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", mapErr(err))
	}
	out := &web.Answer{Question: ans.Question, Answer: ans.Answer, Cited: ans.Cited, Tokens: ans.Tokens, Sources: make([]web.Source, len(ans.Sources))}
	for i, s := range ans.Sources {
		out.Sources[i] = web.Source{Label: s.Label, DocID: s.DocID, Path: s.Path, Page: s.Page, Score: s.Score}
	}
	return out, nil
}
