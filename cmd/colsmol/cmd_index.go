package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/indexer"
	"github.com/colsmol/colsmol/ingest"
)

func newIndexCmd(g *globalOptions) *cobra.Command {
	var o indexer.Options
	var codePool int
	c := &cobra.Command{
		Use:   "index PATH...",
		Short: "Index PDFs and images (files and folders) into the index file",
		Long: `Index PDFs and images (files and folders) into the index file.

Unchanged files are skipped, changed ones re-embedded, moved ones only get their new path; --prune removes
documents whose files are gone. A file that cannot be indexed is reported on stderr ("skip PATH: ...") and
the rest goes on; the exit status is then 1. Interrupted runs (Ctrl-C, kill) keep every document already
stored: run the same command again to continue.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runIndex(c, g, args, o, codePool)
		},
	}
	f := c.Flags()
	f.BoolVar(&o.Prune, "prune", false, "remove documents whose files are gone")
	f.IntVar(&o.DPI, "dpi", 0, "PDF render resolution (0: chosen per page so that its longest side lands on the model's working size)")
	f.IntVar(&o.Workers, "workers", 0, "render workers, each with its own PDFium instance (0: automatic)")
	f.IntVar(&o.MaxTiles, "max-tiles", 0, "at most this many vision tiles per page, global view included (lowers the page's longest edge in steps of 512; 0: the model's size)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print per file the pages, tiles and estimated seconds, without indexing")
	f.IntVar(&o.PoolFactor, "pool-factor", 0, "store each page's vectors pooled by this factor (2-3: less storage and faster search, some quality lost, no similarity map; 0: off)")
	f.IntVar(&codePool, "code-pool", 0, "compute the 1-bit codes and sketches of the binary phases from vectors pooled by this factor (3: a third of the code storage, a faster full-code phase; 0: off)")
	return c
}

// indexJSON is the --json summary of interfaces.md.
type indexJSON struct {
	Files    int                   `json:"files"`
	Pages    int                   `json:"pages"`
	Embedded int                   `json:"embedded"`
	Skipped  int                   `json:"skipped"`
	Removed  int                   `json:"removed"`
	Failed   []indexer.Failure     `json:"failed"`
	Seconds  float64               `json:"seconds"`
	Plan     []indexer.PlannedFile `json:"plan,omitempty"`
}

func runIndex(c *cobra.Command, g *globalOptions, args []string, o indexer.Options, codePool int) error {
	if o.PoolFactor < 0 || o.PoolFactor > 8 || codePool < 0 || codePool > 8 {
		return usageErrorf("--pool-factor and --code-pool take 0 (off) or a factor from 2 to 8")
	}
	if o.DPI < 0 || o.DPI > 1200 {
		return usageErrorf("--dpi %d is out of range: give 0 (automatic) or 1..1200", o.DPI)
	}
	if o.MaxTiles < 0 || o.Workers < 0 {
		return usageErrorf("--max-tiles and --workers take a number >= 0")
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, cleanup, err := openIndexForRun(g, o.DryRun, codePool)
	if err != nil {
		return err
	}
	defer cleanup()

	var em *embed.Embedder
	if !o.DryRun {
		var err error
		if em, _, err = openEmbedder(g); err != nil {
			return err
		}
		defer em.Close()
	}
	if o.Workers == 0 {
		// Rendering takes a few percent of a page's time next to the model on a CPU: one worker keeps the
		// pipeline fed; more only compete with ONNX Runtime's threads for the cores.
		o.Workers = max(1, runtime.NumCPU()/8)
	}
	r, err := ingest.NewRendererWithOptions(ingest.RendererOptions{Instances: o.Workers})
	if err != nil {
		return fatal(err)
	}
	defer r.Close()

	out := newIndexOutput(g, os.Stderr)
	o.Progress = out.event
	sum, runErr := indexer.Run(ctx, st, em, r, args, o)
	out.done()
	if g.verbose && em != nil {
		es := em.Stats()
		fmt.Fprintf(os.Stderr, "embedder: %d pages in %.1f s: preprocessing %.1f s, vision graph %.1f s, token embeddings %.1f s, text graph %.1f s\n",
			es.Pages, es.Total.Seconds(), es.Preprocess.Seconds(), es.Vision.Seconds(), es.Tokens.Seconds(), es.Text.Seconds())
	}

	if sum != nil {
		if g.json {
			failed := sum.Failed
			if failed == nil {
				failed = []indexer.Failure{}
			}
			j := indexJSON{Files: sum.Files, Pages: sum.Pages, Embedded: sum.Embedded, Skipped: sum.Skipped,
				Removed: sum.Removed, Failed: failed, Seconds: round3(sum.Seconds), Plan: sum.Plan}
			enc := json.NewEncoder(c.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(j); err != nil {
				return fatal(err)
			}
		} else {
			printIndexSummary(c.OutOrStdout(), sum, o.DryRun)
		}
	}
	switch {
	case errors.Is(runErr, context.Canceled):
		return &exitError{code: exitPartial, err: errors.New("interrupted; every document stored so far is kept: run the same command again to continue")}
	case errors.Is(runErr, indexer.ErrNoTileBudget):
		return fatalf("%v; index without --max-tiles", runErr)
	case runErr != nil:
		return fatal(runErr)
	case sum != nil && len(sum.Failed) > 0:
		return &exitError{code: exitPartial}
	}
	return nil
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// openIndexForRun opens the index for writing, or for a dry run read-only (an index that does not exist yet
// is replaced by an empty temporary one, so a dry run never creates files).
func openIndexForRun(g *globalOptions, dryRun bool, codePool int) (*index.Store, func(), error) {
	if !dryRun {
		if dir := filepath.Dir(g.db); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, nil, fatalf("create the folder of --db %s: %v", g.db, err)
			}
		}
		st, err := index.Open(g.db, index.Options{CodePool: codePool})
		if err != nil {
			return nil, nil, fatal(err)
		}
		return st, func() { st.Close() }, nil
	}
	if _, err := os.Stat(g.db); err == nil {
		st, err := index.Open(g.db, index.Options{ReadOnly: true})
		if err != nil {
			return nil, nil, fatal(err)
		}
		return st, func() { st.Close() }, nil
	}
	tmp, err := os.MkdirTemp("", "colsmol-dry-run-")
	if err != nil {
		return nil, nil, fatal(err)
	}
	st, err := index.Open(filepath.Join(tmp, "empty.db"), index.Options{})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, fatal(err)
	}
	return st, func() { st.Close(); os.RemoveAll(tmp) }, nil
}

func printIndexSummary(w io.Writer, s *indexer.Summary, dryRun bool) {
	if dryRun {
		var pages, tiles int
		var secs float64
		for _, p := range s.Plan {
			if p.Action == "new" || p.Action == "changed" {
				fmt.Fprintf(w, "%-9s %s: %s, %s, ~%.0f s\n", p.Action, p.Path, plural(p.Pages, "page"), plural(p.Tiles, "tile"), p.Seconds)
				pages += p.Pages
				tiles += p.Tiles
				secs += p.Seconds
			} else {
				fmt.Fprintf(w, "%-9s %s: %s, nothing to embed\n", p.Action, p.Path, plural(p.Pages, "page"))
			}
		}
		fmt.Fprintf(w, "dry run: %d files, %d pages to embed, %d tiles, ~%s at %.2f s per tile; %d failed\n",
			s.Files, pages, tiles, time.Duration(secs*float64(time.Second)).Round(time.Second), s.SecondsPerTile, len(s.Failed))
		return
	}
	fmt.Fprintf(w, "files %d, pages %d (embedded %d), skipped %d, removed %d, failed %d, %.1f s, %.2f pages/s\n",
		s.Files, s.Pages, s.Embedded, s.Skipped, s.Removed, len(s.Failed), s.Seconds, s.PagesPerSecond())
}

// indexOutput shows a run's progress on stderr: a bar on a terminal, plain lines otherwise. Problems with
// files are always printed, one line each: "skip PATH: what happened; what to do".
type indexOutput struct {
	progressOutput

	mu      sync.Mutex
	bar     *mpb.Bar
	current string
	planned bool
}

func newIndexOutput(g *globalOptions, w io.Writer) *indexOutput {
	return &indexOutput{progressOutput: newProgressOutput(g, w)}
}

// line prints one line above the bar (or plainly).
func (o *indexOutput) line(format string, args ...any) {
	o.println(fmt.Sprintf(format, args...))
}

// plural writes "1 page", "2 pages".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// printablePath quotes a path that is not valid UTF-8 (Go escapes), so a log line stays readable text.
func printablePath(p string) string {
	if utf8.ValidString(p) {
		return p
	}
	return strconv.Quote(p)
}

func displayPath(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return p
}

func (o *indexOutput) event(e indexer.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	step := false
	switch e.Kind {
	case indexer.Planned:
		o.planned = true
		if o.p != nil {
			o.bar = o.p.AddBar(int64(e.Todo),
				mpb.PrependDecorators(decor.Name("indexing "), decor.CountersNoUnit("%d/%d files")),
				mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Any(func(decor.Statistics) string { return " " + o.current })))
		} else if !o.quiet {
			o.line("found %d files, %d to index", e.Files, e.Todo)
		}
	case indexer.FileStarted:
		o.current = fmt.Sprintf("%s (%s)", filepath.Base(e.Path), plural(e.Pages, "page"))
		if o.verbose && o.p == nil {
			o.line("render %s (%s)", e.Path, plural(e.Pages, "page"))
		}
	case indexer.PageEmbedded:
		o.current = fmt.Sprintf("%s page %d/%d", filepath.Base(e.Path), e.Page, e.Pages)
		if o.verbose && o.p == nil {
			o.line("embedded %s page %d/%d", e.Path, e.Page, e.Pages)
		}
	case indexer.PageRestored:
		o.current = fmt.Sprintf("%s page %d/%d (reused)", filepath.Base(e.Path), e.Page, e.Pages)
		if o.verbose && o.p == nil {
			o.line("reused %s page %d/%d (embedded by an interrupted run)", e.Path, e.Page, e.Pages)
		}
	case indexer.FileIndexed:
		step = true
		if !o.quiet {
			o.line("indexed %s (%s, %.1f s)", e.Path, plural(e.Pages, "page"), e.Seconds)
		}
	case indexer.FileSkipped:
		step = o.planned
		if o.verbose {
			o.line("unchanged %s (%s)", e.Path, e.Note)
		}
	case indexer.FileMoved:
		step = true
		if !o.quiet {
			o.line("moved %s -> %s (not embedded again)", displayPath(e.From), e.Path)
		}
	case indexer.FileFailed:
		step = o.planned
		o.line("skip %s: %v", printablePath(e.Path), e.Err)
	case indexer.DocRemoved:
		if !o.quiet {
			o.line("removed %s (file gone)", displayPath(e.Path))
		}
	}
	if step && o.bar != nil {
		o.bar.Increment()
	}
}

// done stops the bar.
func (o *indexOutput) done() {
	o.mu.Lock()
	p, bar := o.p, o.bar
	o.mu.Unlock()
	if p == nil {
		return
	}
	if bar != nil {
		bar.Abort(false)
	}
	p.Wait()
}
