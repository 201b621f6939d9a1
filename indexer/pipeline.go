package indexer

import (
	"context"
	"fmt"
	"image"
	"sync"
	"time"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/internal/vlm"
	"github.com/colsmol/colsmol/maxsim"
)

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
			// A complete document is stored even when the run is being interrupted: its work is done.
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

// embedWorkers is the number of pages handed to the embedder at once. The embedder runs one page at a time
// through the model but prepares a page's inputs (resizing, tiling, normalising) before it waits for its
// turn, so a second page in flight overlaps that preprocessing with the model's work on the first.
const embedWorkers = 2

// docAcc collects the pages of one document as they are embedded (possibly out of order).
type docAcc struct {
	pages    []index.Page
	have     int
	restored int
}

// embedStage embeds pages as they come and hands complete documents to the store.
func (x *run) embedStage(ctx context.Context, in <-chan pageItem, out chan<- docItem) {
	var mu sync.Mutex // guards acc and failed
	acc := map[*job]*docAcc{}
	failed := map[*job]bool{}
	failJob := func(j *job, err error) { // with mu held
		delete(acc, j)
		if !failed[j] {
			failed[j] = true
			x.fail(j.file.Path, err)
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < embedWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range in {
				mu.Lock()
				skip := ctx.Err() != nil || failed[it.j]
				if !skip && it.err != nil {
					failJob(it.j, it.err)
					skip = true
				}
				mu.Unlock()
				if skip {
					continue // drain so the render workers can finish; the rest of a failed file is dropped
				}
				page, restored, err := x.pageFor(ctx, it)
				mu.Lock()
				if err != nil || failed[it.j] {
					if err != nil && ctx.Err() == nil {
						failJob(it.j, err)
					}
					mu.Unlock()
					continue
				}
				a := acc[it.j]
				if a == nil {
					a = &docAcc{pages: make([]index.Page, it.n)}
					acc[it.j] = a
				}
				a.pages[it.i] = page
				a.have++
				if restored {
					a.restored++
				}
				complete := a.have == it.n
				if complete {
					delete(acc, it.j)
				}
				mu.Unlock()
				if restored {
					x.emit(Event{Kind: PageRestored, Path: it.j.file.Path, Page: it.i + 1, Pages: it.n})
				} else {
					x.emit(Event{Kind: PageEmbedded, Path: it.j.file.Path, Page: it.i + 1, Pages: it.n})
				}
				if complete {
					doc := index.Document{
						Path: it.j.abs, SHA256: it.sha, Size: it.j.file.Size, ModTime: it.j.file.ModTime,
						IndexedAt: time.Now().UTC(), Pages: it.n,
					}
					out <- docItem{j: it.j, doc: doc, pages: a.pages, restored: a.restored} // the store always drains
				}
			}
		}()
	}
	wg.Wait()
}

// pageFor returns the stored form of one page: taken from the partial store when an interrupted run embedded
// it already, else embedded now (and kept in the partial store when the document has more pages to go).
func (x *run) pageFor(ctx context.Context, it pageItem) (index.Page, bool, error) {
	if it.restored {
		if page, ok := x.partial.load(it.sha, it.i); ok {
			return page, true, nil
		}
	}
	if it.thumb == nil {
		var err error
		if it.thumb, it.preview, err = displayImages(it.img); err != nil {
			return index.Page{}, false, fmt.Errorf("page %d: thumbnail: %v", it.i+1, err)
		}
	}
	ep, err := x.embedPage(ctx, it)
	if err != nil {
		// A page the model cannot take (the embedder refuses it) fails its file; the run goes on.
		return index.Page{}, false, fmt.Errorf("page %d: embed: %v; the model refused this page", it.i+1, err)
	}
	page := index.Page{
		Width: it.img.W, Height: it.img.H,
		Tiles:   index.Tiles{Rows: ep.Tiles.Rows, Cols: ep.Tiles.Cols},
		Thumb:   it.thumb,
		Preview: it.preview,
		Vectors: ep.Vectors, ImagePositions: ep.ImagePositions,
	}
	if x.o.PoolFactor > 1 {
		page.Vectors, _ = maxsim.PoolHierarchical(page.Vectors, x.o.PoolFactor)
		page.ImagePositions = nil
	}
	if it.n > 1 && it.i < it.n-1 {
		x.partial.save(it.sha, it.i, page) // best effort: only resumption depends on it
	}
	return page, false, nil
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
