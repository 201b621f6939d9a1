// Package indexer is colsmol's indexing pipeline, shared by `colsmol index` and the server's uploads:
// walk → sha256 → skip unchanged / replace changed → render → embed → store, with pruning of documents whose
// files are gone.
//
// Files are identified by content. A file whose path, size and modification time match its indexed document
// is skipped without being read; otherwise it is hashed, and a file whose content is already indexed is not
// embedded again (a moved or renamed file only gets its new path). A document and all its pages are stored in
// one transaction, so an interrupted run (even kill -9) leaves each document whole or absent, and the next run
// picks up where it stopped.
//
// The stages overlap: render workers (PDFium instances, image decoding, thumbnails) work on the next pages
// while the embedder runs the model on the current one, and the store writes a finished document while the
// next is embedded. Channels between the stages are small, so memory stays bounded.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/ingest"
	"github.com/colsmol/colsmol/internal/vlm"
)

// Options control Run.
type Options struct {
	// Prune removes documents whose files no longer exist.
	Prune bool
	// DPI renders PDF pages at this resolution instead of choosing it per page so that the longest side lands
	// on the model's working size.
	DPI int
	// Workers is the number of render workers (each one PDFium instance; the Renderer must have at least as
	// many instances). 0 picks one, which keeps a 2-core machine busy with inference.
	Workers int
	// MaxTiles caps the vision-encoder tiles per page (the global view included): each page's longest edge is
	// lowered, in steps of 512 pixels, until it fits. 0 means the model's own size.
	MaxTiles int
	// PoolFactor, when > 1, stores each page's vectors pooled by this factor (hierarchical clustering, as
	// colpali-engine's HierarchicalTokenPooler): about 1/PoolFactor of the storage and scoring time, at some
	// loss of quality. Pooled pages have no similarity map, since their vectors no longer map to image patches.
	PoolFactor int
	// DryRun plans without rendering, embedding or writing: Summary.Plan lists what would be done.
	DryRun bool
	// SecondsPerTile is the dry run's cost model; 0 means EstimateSecondsPerTile().
	SecondsPerTile float64
	// Progress, when set, receives events as the run goes (from one goroutine at a time).
	Progress func(Event)
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// Planned: the walk is done; Files files were found, Todo of them need work.
	Planned EventKind = iota
	// FileStarted: Path is being rendered; Pages is its page count.
	FileStarted
	// PageEmbedded: page Page (1-based) of Pages of Path was embedded.
	PageEmbedded
	// PageRestored: page Page of Pages of Path was embedded by an earlier, interrupted run and is reused.
	PageRestored
	// FileIndexed: Path was stored with Pages pages after Seconds.
	FileIndexed
	// FileSkipped: Path needs no work (Note says why).
	FileSkipped
	// FileMoved: Path has the content of the indexed document From, whose file is gone; only its path changed.
	FileMoved
	// FileFailed: Path could not be indexed; Err says why and what to do.
	FileFailed
	// DocRemoved: the document of Path was removed because its file is gone (--prune).
	DocRemoved
)

// Event is one step of a run, for progress displays and logs.
type Event struct {
	Kind    EventKind
	Path    string
	From    string
	Page    int
	Pages   int
	Files   int
	Todo    int
	Seconds float64
	Note    string
	Err     error
}

// Failure is a file that could not be indexed.
type Failure struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// PlannedFile is one file of a dry run.
type PlannedFile struct {
	Path   string `json:"path"`
	Action string `json:"action"` // "new", "changed", "unchanged", "moved", "duplicate"
	Pages  int    `json:"pages"`
	Tiles  int    `json:"tiles"`
	// Seconds is the estimated embedding time (tiles × seconds per tile).
	Seconds float64 `json:"seconds"`
}

// Summary is what a run did.
type Summary struct {
	// Files is the number of PDFs and images found.
	Files int
	// Pages is the number of pages of the files found that are now indexed (embedded or skipped).
	Pages int
	// Embedded is the number of pages embedded by this run.
	Embedded int
	// Skipped is the number of files that needed no embedding (unchanged, moved or duplicate content).
	Skipped int
	// Removed is the number of documents removed by Prune.
	Removed int
	// Moved is the number of documents whose path was updated (included in Skipped).
	Moved int
	// Failed lists the files that could not be indexed.
	Failed  []Failure
	Seconds float64
	// Plan is the dry run's per-file plan; SecondsPerTile the cost model it used.
	Plan           []PlannedFile
	SecondsPerTile float64
}

// PagesPerSecond is the embedding throughput of the run.
func (s *Summary) PagesPerSecond() float64 {
	if s.Seconds <= 0 {
		return 0
	}
	return float64(s.Embedded) / s.Seconds
}

// EstimateSecondsPerTile is the documented cost model for dry runs: DefaultSecondsPerTile scaled from 2 cores
// to this machine's core count.
func EstimateSecondsPerTile() float64 {
	return DefaultSecondsPerTile * 2 / float64(max(1, runtime.NumCPU()))
}

// run holds the state of one Run.
type run struct {
	ctx  context.Context
	st   *index.Store
	em   *embed.Embedder
	r    *ingest.Renderer
	o    Options
	edge int
	mu   sync.Mutex // guards s and progress calls
	s    Summary
	// partial keeps the embedded pages of documents under way, for resuming inside a document.
	partial partialStore
}

func (x *run) emit(e Event) {
	if x.o.Progress == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.o.Progress(e)
}

func (x *run) fail(path string, err error) {
	x.mu.Lock()
	x.s.Failed = append(x.s.Failed, Failure{Path: path, Error: err.Error()})
	x.mu.Unlock()
	x.emit(Event{Kind: FileFailed, Path: path, Err: err})
}

// job is one file that needs reading.
type job struct {
	file     ingest.File
	abs      string
	existing *index.Document
	started  time.Time
}

// Run indexes the PDFs and images under paths into st. Problems with single files are reported in
// Summary.Failed (and through Progress) and the run goes on; the error is non-nil only when the run as a
// whole could not go on (the context ended, the store failed). em may be nil for a dry run.
func Run(ctx context.Context, st *index.Store, em *embed.Embedder, r *ingest.Renderer, paths []string, o Options) (*Summary, error) {
	start := time.Now()
	x := &run{ctx: ctx, st: st, em: em, r: r, o: o, edge: modelEdge(em)}
	if o.Workers <= 0 {
		x.o.Workers = 1
	}
	if r != nil {
		x.o.Workers = min(x.o.Workers, max(1, r.Instances()))
	}
	if o.MaxTiles > 0 && !o.DryRun {
		if _, ok := any(em).(edgeEmbedder); !ok {
			return &x.s, ErrNoTileBudget
		}
	}
	files, _ := ingest.Walk(paths, func(p string, err error) { x.fail(p, err) })
	x.s.Files = len(files)

	docs, err := st.Documents()
	if err != nil {
		return &x.s, fmt.Errorf("read the index: %w", err)
	}
	byPath := make(map[string]*index.Document, len(docs))
	for i := range docs {
		byPath[docs[i].Path] = &docs[i]
	}
	walked := make(map[string]bool, len(files))
	var todo []*job
	for _, f := range files {
		abs, err := filepath.Abs(f.Path)
		if err != nil {
			x.fail(f.Path, fmt.Errorf("%v; check the path", err))
			continue
		}
		walked[abs] = true
		d := byPath[abs]
		if d != nil && d.Size == f.Size && d.ModTime.Equal(f.ModTime) {
			x.s.Skipped++
			x.s.Pages += d.Pages
			x.emit(Event{Kind: FileSkipped, Path: f.Path, Pages: d.Pages, Note: "unchanged"})
			if o.DryRun {
				x.s.Plan = append(x.s.Plan, PlannedFile{Path: f.Path, Action: "unchanged", Pages: d.Pages})
			}
			continue
		}
		todo = append(todo, &job{file: f, abs: abs, existing: d})
	}
	x.emit(Event{Kind: Planned, Files: len(files), Todo: len(todo)})

	if o.DryRun {
		err = x.plan(todo)
	} else {
		x.partial = newPartialStore(st.Path(), "v1", em.Dir(), x.edge, o.DPI, o.MaxTiles)
		err = x.pipeline(todo)
	}
	if err == nil && o.Prune && !o.DryRun {
		err = x.prune(walked)
	}
	x.s.Seconds = time.Since(start).Seconds()
	return &x.s, err
}

// edgeEmbedder is implemented by embedders that can resize a page to another longest edge than the model's
// (what --max-tiles needs).
type edgeEmbedder interface {
	EmbedPagesAt(ctx context.Context, imgs []*vlm.RGB, longestEdge int) ([]embed.Page, error)
}

// ErrNoTileBudget is returned when MaxTiles is asked for but the embedder cannot resize pages to another
// longest edge.
var ErrNoTileBudget = errors.New("--max-tiles is not supported by this build's embedder")

// modelEdge is the model's working size (longest edge), 2048 when the embedder does not say.
func modelEdge(em *embed.Embedder) int {
	if em != nil {
		if p := em.Processor(); p != nil && p.Image.DoResize && p.Image.Size.LongestEdge > 0 {
			return p.Image.Size.LongestEdge
		}
	}
	return ingest.DefaultLongestEdge
}

// sizeFunc picks the render size of PDF pages.
func (x *run) sizeFunc() ingest.SizeFunc {
	if x.o.DPI > 0 {
		return ingest.AtDPI(x.o.DPI)
	}
	return func(wPt, hPt float64) (int, int) {
		edge := EdgeForBudget(int(wPt*100), int(hPt*100), x.edge, x.o.MaxTiles)
		return ingest.LongestEdgeSize(wPt, hPt, edge)
	}
}

// pageEdge is the longest edge the processor resizes a w×h page image to.
func (x *run) pageEdge(w, h int) int {
	return EdgeForBudget(w, h, x.edge, x.o.MaxTiles)
}

// prune removes the documents whose files are gone. Files that exist but were not walked (another folder) are
// kept; so are files that cannot be checked (permissions).
func (x *run) prune(walked map[string]bool) error {
	docs, err := x.st.Documents()
	if err != nil {
		return fmt.Errorf("read the index: %w", err)
	}
	for _, d := range docs {
		if walked[d.Path] {
			continue
		}
		if _, err := os.Lstat(d.Path); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := x.st.Delete(d.ID); err != nil {
			return fmt.Errorf("remove %s from the index: %w", d.Path, err)
		}
		x.s.Removed++
		x.emit(Event{Kind: DocRemoved, Path: d.Path, Pages: d.Pages})
	}
	return nil
}
