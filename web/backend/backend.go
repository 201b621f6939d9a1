// Package backend adapts colsmol's index, embedder, indexer and answer pipeline to the small interfaces of
// package web, so that web depends on behaviour and its tests and `colsmol serve` wire the same code.
package backend

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/generate"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/indexer"
	"github.com/colsmol/colsmol/ingest"
	"github.com/colsmol/colsmol/web"
)

// Store adapts an *index.Store to web.Store and web.PageLayouter.
type Store struct {
	St *index.Store
	// Search tunes every search; the zero value is the index's default (sketch and full-code binary phases, exact rerank).
	Options index.SearchOptions
}

var (
	_ web.Store        = Store{}
	_ web.PageLayouter = Store{}
	_ web.Embedder     = (*embed.Embedder)(nil)
)

// kindError keeps an error's text and cause and adds the web sentinel it maps to.
type kindError struct{ kind, err error }

func (e kindError) Error() string   { return e.err.Error() }
func (e kindError) Unwrap() []error { return []error{e.kind, e.err} }

// mapErr gives errors of the index and the generator the web sentinel that decides their HTTP status.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, index.ErrNotFound):
		return kindError{web.ErrNotFound, err}
	case errors.Is(err, index.ErrBadInput), errors.Is(err, generate.ErrContextTooLong):
		return kindError{web.ErrBadInput, err}
	}
	return err
}

// Search implements web.Store.
func (s Store) Search(ctx context.Context, q [][]float32, k int) ([]web.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := s.St.Search(q, k, s.Options)
	if err != nil {
		return nil, mapErr(err)
	}
	hits := make([]web.Hit, len(res))
	for i, r := range res {
		hits[i] = web.Hit{DocID: r.DocID, Path: r.Path, Page: r.Page, Score: r.Score}
	}
	return hits, nil
}

// Documents implements web.Store.
func (s Store) Documents() ([]web.Document, error) {
	docs, err := s.St.Documents()
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]web.Document, len(docs))
	for i, d := range docs {
		out[i] = web.Document{ID: d.ID, Path: d.Path, SHA256: d.SHA256, Pages: d.Pages, Size: d.Size, IndexedAt: d.IndexedAt}
	}
	return out, nil
}

// Delete implements web.Store.
func (s Store) Delete(id string) error { return mapErr(s.St.Delete(id)) }

// PageImage implements web.Store.
func (s Store) PageImage(id string, page int, thumb bool) ([]byte, error) {
	b, err := s.St.PageImage(id, page, thumb)
	return b, mapErr(err)
}

// PageVectors implements web.Store.
func (s Store) PageVectors(id string, page int) ([][]float32, []int, error) {
	v, p, err := s.St.PageVectors(id, page)
	return v, p, mapErr(err)
}

// PageLayout implements web.PageLayouter.
func (s Store) PageLayout(id string, page int) (int, int, error) {
	r, c, err := s.St.PageLayout(id, page)
	return r, c, mapErr(err)
}

// Indexer adapts indexer.Run to web.Indexer.
type Indexer struct {
	Store    *index.Store
	Embedder *embed.Embedder
	Renderer *ingest.Renderer
	Options  indexer.Options // Progress is replaced by the web job's
}

var _ web.Indexer = Indexer{}

// Index implements web.Indexer.
func (x Indexer) Index(ctx context.Context, paths []string, progress func(web.Progress)) (*web.IndexSummary, error) {
	o := x.Options
	var p web.Progress
	o.Progress = func(e indexer.Event) {
		name := filepath.Base(e.Path)
		switch e.Kind {
		case indexer.Planned:
			p.Files = e.Todo
			p.Message = fmt.Sprintf("%d files to index", e.Todo)
		case indexer.FileStarted:
			p.FileIndex++
			p.File, p.Page, p.Pages = e.Path, 0, e.Pages
			p.Message = fmt.Sprintf("%s: rendering %d pages", name, e.Pages)
		case indexer.PageEmbedded:
			p.Page, p.Pages = e.Page, e.Pages
			p.Message = fmt.Sprintf("%s: page %d of %d embedded", name, e.Page, e.Pages)
		case indexer.FileIndexed:
			p.Page = p.Pages
			p.Message = fmt.Sprintf("%s: indexed", name)
		case indexer.FileSkipped, indexer.FileMoved:
			p.Message = fmt.Sprintf("%s: already indexed", name)
		case indexer.FileFailed:
			p.Message = fmt.Sprintf("%s: failed: %v", name, e.Err)
		default:
			return
		}
		if progress != nil {
			progress(p)
		}
	}
	sum, err := indexer.Run(ctx, x.Store, x.Embedder, x.Renderer, paths, o)
	if sum == nil {
		return nil, err
	}
	out := &web.IndexSummary{Files: sum.Files, Pages: sum.Pages, Embedded: sum.Embedded, Skipped: sum.Skipped, Seconds: sum.Seconds}
	for _, f := range sum.Failed {
		out.Failed = append(out.Failed, web.Failure{Path: f.Path, Error: f.Error})
	}
	return out, err
}
