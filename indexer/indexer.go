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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
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

// read loads and hashes a file.
func read(path string) ([]byte, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrPermission):
			return nil, "", errors.New("permission denied; give the user running colsmol read access")
		case errors.Is(err, fs.ErrNotExist):
			return nil, "", errors.New("the file disappeared while indexing; index again")
		}
		return nil, "", fmt.Errorf("read: %v; check the file", err)
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// known decides whether a file's content is already indexed: "same" (the document at this path, touched but
// unchanged), "moved" (a document whose file is gone), "duplicate" (a document whose file still exists) or "".
func (x *run) known(j *job, sha string) (string, *index.Document, error) {
	if j.existing != nil && j.existing.SHA256 == sha {
		return "same", j.existing, nil
	}
	d, err := x.st.BySHA(sha)
	if err != nil || d == nil {
		return "", nil, err
	}
	if d.Path == j.abs {
		return "same", d, nil
	}
	if _, err := os.Lstat(d.Path); errors.Is(err, fs.ErrNotExist) {
		return "moved", d, nil
	}
	return "duplicate", d, nil
}

// settle handles a file whose content is already indexed; it reports whether the file needs no embedding.
func (x *run) settle(j *job, how string, d *index.Document) (bool, error) {
	switch how {
	case "same", "moved":
		if err := x.relocate(d, j); err != nil {
			return false, err
		}
		x.mu.Lock()
		x.s.Skipped++
		x.s.Pages += d.Pages
		if how == "moved" {
			x.s.Moved++
		}
		x.mu.Unlock()
		if how == "moved" {
			x.emit(Event{Kind: FileMoved, Path: j.file.Path, From: d.Path, Pages: d.Pages})
		} else {
			x.emit(Event{Kind: FileSkipped, Path: j.file.Path, Pages: d.Pages, Note: "content unchanged"})
		}
		return true, nil
	case "duplicate":
		x.mu.Lock()
		x.s.Skipped++
		x.mu.Unlock()
		x.emit(Event{Kind: FileSkipped, Path: j.file.Path, Pages: d.Pages, Note: "same content as " + d.Path})
		return true, nil
	}
	return false, nil
}

// relocate stores the indexed document d again under the file of j (its new path, size and modification
// time), copying its pages from the index instead of embedding them again, and removes the old entry when
// the path changed. The index has no "move" of its own, so this takes two transactions: a crash between
// them leaves the document under both paths, each whole; the next run with --prune drops the old one.
func (x *run) relocate(d *index.Document, j *job) error {
	pages := make([]index.Page, d.Pages)
	for p := 1; p <= d.Pages; p++ {
		info, err := x.st.PageInfo(d.ID, p)
		if err != nil {
			return err
		}
		vecs, pos, err := x.st.PageVectors(d.ID, p)
		if err != nil {
			return err
		}
		thumb, err := x.st.PageImage(d.ID, p, true)
		if err != nil {
			return err
		}
		preview, err := x.st.PageImage(d.ID, p, false)
		if err != nil {
			return err
		}
		pages[p-1] = index.Page{Width: info.Width, Height: info.Height, Tiles: info.Tiles, Thumb: thumb, Preview: preview,
			Vectors: vecs, ImagePositions: pos}
	}
	nd := index.Document{Path: j.abs, SHA256: d.SHA256, Size: j.file.Size, ModTime: j.file.ModTime, IndexedAt: d.IndexedAt}
	if err := x.st.Put(nd, pages); err != nil {
		return err
	}
	if index.DocumentID(j.abs) != d.ID && d.Path != j.abs {
		return x.st.Delete(d.ID)
	}
	return nil
}

// plan is the dry run: page sizes and tile counts without rendering.
func (x *run) plan(todo []*job) error {
	spt := x.o.SecondsPerTile
	if spt <= 0 {
		spt = EstimateSecondsPerTile()
	}
	x.s.SecondsPerTile = spt
	for _, j := range todo {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		data, sha, err := read(j.file.Path)
		if err != nil {
			x.fail(j.file.Path, err)
			continue
		}
		how, d, err := x.known(j, sha)
		if err != nil {
			return fmt.Errorf("read the index: %w", err)
		}
		if how != "" {
			act := map[string]string{"same": "unchanged", "moved": "moved", "duplicate": "duplicate"}[how]
			x.s.Plan = append(x.s.Plan, PlannedFile{Path: j.file.Path, Action: act, Pages: d.Pages})
			x.s.Skipped++
			continue
		}
		sizes, err := x.r.PageSizes(x.ctx, data, x.sizeFunc())
		if err != nil {
			x.fail(j.file.Path, err)
			continue
		}
		pf := PlannedFile{Path: j.file.Path, Action: "new", Pages: len(sizes)}
		if j.existing != nil {
			pf.Action = "changed"
		}
		for _, sz := range sizes {
			_, _, n := Tiles(sz.X, sz.Y, x.pageEdge(sz.X, sz.Y))
			pf.Tiles += n
		}
		pf.Seconds = float64(pf.Tiles) * spt
		x.s.Plan = append(x.s.Plan, pf)
		x.s.Pages += pf.Pages
	}
	return nil
}

// pageItem carries one rendered page (or the failure of its file) from a render worker to the embedder.
type pageItem struct {
	j              *job
	sha            string
	i, n           int
	img            *vlm.RGB
	edge           int
	thumb, preview []byte
	restored       bool // an earlier run embedded this page: take it from the partial store
	err            error
}

// docItem is a fully embedded document on its way to the store.
type docItem struct {
	j        *job
	doc      index.Document
	pages    []index.Page
	restored int // pages taken from the partial store
}

// pipeline renders, embeds and stores the files of todo, the three stages running concurrently.
func (x *run) pipeline(todo []*job) error {
	ctx, cancel := context.WithCancel(x.ctx)
	defer cancel()
	jobs := make(chan *job)
	pages := make(chan pageItem, 2)
	docs := make(chan docItem, 1)
	var fatal error
	var fatalOnce sync.Once
	setFatal := func(err error) {
		fatalOnce.Do(func() { fatal = err; cancel() })
	}

	go func() {
		defer close(jobs)
		for _, j := range todo {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < x.o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := x.render(ctx, j, pages); err != nil {
					setFatal(err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(pages) }()

	storeDone := make(chan struct{})
	go func() {
		defer close(storeDone)
		for d := range docs {
			if ctx.Err() != nil {
				continue
			}
			if err := x.st.Put(d.doc, d.pages); err != nil {
				setFatal(fmt.Errorf("store %s: %w", d.j.file.Path, err))
				continue
			}
			x.partial.drop(d.doc.SHA256)
			x.mu.Lock()
			x.s.Pages += len(d.pages)
			x.s.Embedded += len(d.pages) - d.restored
			x.mu.Unlock()
			x.emit(Event{Kind: FileIndexed, Path: d.j.file.Path, Pages: len(d.pages), Seconds: time.Since(d.j.started).Seconds()})
		}
	}()

	x.embedStage(ctx, pages, docs)
	close(docs)
	<-storeDone
	if fatal != nil {
		return fatal
	}
	if err := x.ctx.Err(); err != nil {
		return err
	}
	x.partial.clear()
	return nil
}

// render reads one file and sends its pages; problems with the file are sent as a failed item. It returns an
// error only when the run must stop.
func (x *run) render(ctx context.Context, j *job, out chan<- pageItem) error {
	j.started = time.Now()
	send := func(it pageItem) bool {
		select {
		case out <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	data, sha, err := read(j.file.Path)
	if err != nil {
		send(pageItem{j: j, err: err})
		return nil
	}
	how, d, err := x.known(j, sha)
	if err != nil {
		return fmt.Errorf("read the index: %w", err)
	}
	if done, err := x.settle(j, how, d); err != nil {
		return fmt.Errorf("update %s in the index: %w", j.file.Path, err)
	} else if done {
		return nil
	}
	err = x.r.PagesSized(ctx, j.file.Path, data, x.sizeFunc(), func(i, n int, img image.Image) (err error) {
		rgb, ok := img.(*vlm.RGB)
		if !ok {
			rgb = vlm.ToRGB(img, vlm.AlphaDrop)
		}
		if i == 0 {
			x.emit(Event{Kind: FileStarted, Path: j.file.Path, Pages: n})
		}
		it := pageItem{j: j, sha: sha, i: i, n: n, img: rgb, edge: x.pageEdge(rgb.W, rgb.H)}
		if n > 1 && x.partial.has(sha, i) {
			it.restored = true
		} else if it.thumb, it.preview, err = displayImages(rgb); err != nil {
			return fmt.Errorf("page %d: thumbnail: %w", i+1, err)
		}
		if !send(it) {
			return ctx.Err()
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		send(pageItem{j: j, err: err})
	}
	return nil
}

// embedStage embeds pages as they come and hands complete documents to the store.
func (x *run) embedStage(ctx context.Context, in <-chan pageItem, out chan<- docItem) {
	acc := map[*job][]index.Page{}
	restoredPages := map[*job]int{}
	failed := map[*job]bool{}
	failJob := func(j *job, err error) {
		delete(acc, j)
		delete(restoredPages, j)
		failed[j] = true
		x.fail(j.file.Path, err)
	}
	for it := range in {
		if ctx.Err() != nil || failed[it.j] {
			continue // drain so the render workers can finish; the rest of a failed file is dropped
		}
		if it.err != nil {
			failJob(it.j, it.err)
			continue
		}
		var page index.Page
		restored := false
		if it.restored {
			page, restored = x.partial.load(it.sha, it.i)
		}
		if !restored {
			if it.thumb == nil {
				var err error
				if it.thumb, it.preview, err = displayImages(it.img); err != nil {
					failJob(it.j, fmt.Errorf("page %d: thumbnail: %v", it.i+1, err))
					continue
				}
			}
			ep, err := x.embedPage(ctx, it)
			if err != nil {
				if ctx.Err() != nil {
					continue
				}
				// A page the model cannot take (the embedder refuses it) fails its file; the run goes on.
				failJob(it.j, fmt.Errorf("page %d: embed: %v; the model refused this page", it.i+1, err))
				continue
			}
			page = index.Page{
				Width: it.img.W, Height: it.img.H,
				Tiles:   index.Tiles{Rows: ep.Tiles.Rows, Cols: ep.Tiles.Cols},
				Thumb:   it.thumb,
				Preview: it.preview,
				Vectors: ep.Vectors, ImagePositions: ep.ImagePositions,
			}
			if it.n > 1 && it.i < it.n-1 {
				x.partial.save(it.sha, it.i, page) // best effort: only resumption depends on it
			}
			x.emit(Event{Kind: PageEmbedded, Path: it.j.file.Path, Page: it.i + 1, Pages: it.n})
		} else {
			restoredPages[it.j]++
			x.emit(Event{Kind: PageRestored, Path: it.j.file.Path, Page: it.i + 1, Pages: it.n})
		}
		acc[it.j] = append(acc[it.j], page)
		if len(acc[it.j]) == it.n {
			pages := acc[it.j]
			delete(acc, it.j)
			doc := index.Document{
				Path: it.j.abs, SHA256: it.sha, Size: it.j.file.Size, ModTime: it.j.file.ModTime,
				IndexedAt: time.Now().UTC(), Pages: len(pages),
			}
			r := restoredPages[it.j]
			delete(restoredPages, it.j)
			select {
			case out <- docItem{j: it.j, doc: doc, pages: pages, restored: r}:
			case <-ctx.Done():
			}
		}
	}
}

// embedPage runs the model on one page at the longest edge chosen for it.
func (x *run) embedPage(ctx context.Context, it pageItem) (embed.Page, error) {
	var eps []embed.Page
	var err error
	if ee, ok := any(x.em).(edgeEmbedder); ok && it.edge != x.edge {
		eps, err = ee.EmbedPagesAt(ctx, []*vlm.RGB{it.img}, it.edge)
	} else {
		eps, err = x.em.EmbedPages(ctx, []*vlm.RGB{it.img})
	}
	if err != nil {
		return embed.Page{}, err
	}
	if len(eps) != 1 {
		return embed.Page{}, fmt.Errorf("the embedder returned %d pages for 1", len(eps))
	}
	return eps[0], nil
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
