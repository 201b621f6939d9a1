package web

import (
	"context"
	"errors"
	"time"
)

// Hit is one ranked page of a search.
type Hit struct {
	DocID string
	Path  string
	Page  int // 1-based
	Score float32
}

// Document is one indexed file.
type Document struct {
	ID        string
	Path      string
	SHA256    string
	Pages     int
	Size      int64
	IndexedAt time.Time
}

// Store is what the server reads from and deletes in the index (index.Store through an adapter, see
// package web/backend). Implementations must allow calls from many goroutines at once.
type Store interface {
	// Search returns the k best pages for the query vectors, best first.
	Search(ctx context.Context, q [][]float32, k int) ([]Hit, error)
	// Documents lists the indexed documents.
	Documents() ([]Document, error)
	// Delete removes a document and its pages; an unknown id gives an error wrapping ErrNotFound.
	Delete(id string) error
	// PageImage returns a page's JPEG preview, or its thumbnail when thumb is set.
	PageImage(id string, page int, thumb bool) ([]byte, error)
	// PageVectors returns a page's vectors and the indexes of its image tokens among them (tiles row-major,
	// 64 tokens of 8×8 patches each, the global tile last).
	PageVectors(id string, page int) (vectors [][]float32, imagePositions []int, err error)
}

// PageLayouter is optionally implemented by a Store that knows how a page was split into tiles. Without it
// the server infers the split from the number of image tokens and the preview's aspect ratio.
type PageLayouter interface {
	// PageLayout returns the tile grid of a page (0, 0 when the page was not split).
	PageLayout(id string, page int) (rows, cols int, err error)
}

// Embedder turns a query into multi-vectors (embed.Embedder satisfies it as it is).
type Embedder interface {
	EmbedQuery(ctx context.Context, q string) ([][]float32, error)
}

// Progress is one step of an indexing run, for the upload progress bar.
type Progress struct {
	File      string // path of the file being worked on
	FileIndex int    // 1-based position of File among the run's files
	Files     int    // files in the run
	Page      int    // pages of File done so far
	Pages     int    // pages of File (0 while unknown)
	Message   string // a human-readable line
}

// Failure is a file an indexing run could not index.
type Failure struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// IndexSummary is the outcome of an indexing run.
type IndexSummary struct {
	Files, Pages, Embedded, Skipped int
	Failed                          []Failure
	Seconds                         float64
}

// Indexer indexes files that the server saved from an upload (indexer.Run through an adapter).
type Indexer interface {
	Index(ctx context.Context, paths []string, progress func(Progress)) (*IndexSummary, error)
}

// Source is a page an answer was drawn from.
type Source struct {
	Label int     `json:"label,omitempty"`
	DocID string  `json:"doc_id"`
	Path  string  `json:"path"`
	Page  int     `json:"page"`
	Score float32 `json:"score"`
}

// Answer is a generated answer in the JSON shape of `colsmol ask --json`.
type Answer struct {
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Sources  []Source `json:"sources"`
	Cited    []int    `json:"cited,omitempty"`
	Tokens   []int64  `json:"tokens"`
}

// Answerer answers a question from the k best pages (rag.Ask through an adapter). onToken receives the answer
// text as it is generated; an error from it stops the generation.
type Answerer interface {
	Ask(ctx context.Context, question string, k int, onToken func(text string) error) (*Answer, error)
}

// ErrNotFound is wrapped by Store errors about an unknown document or page; the server answers 404.
var ErrNotFound = errors.New("not found")

// ErrBadInput is wrapped by errors about input the caller must fix; the server answers 400.
var ErrBadInput = errors.New("bad input")

// ErrNoPages is wrapped by an Answerer's error when the index holds no pages; the server answers 409.
var ErrNoPages = errors.New("the index holds no pages yet; upload or index documents first")
