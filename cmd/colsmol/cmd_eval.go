package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/colsmol/colsmol/eval/vidore"
	"github.com/colsmol/colsmol/internal/hub"
)

type evalFlags struct {
	datasets []string
	out      string
	runOut   string
	qrelsOut string
	k        int
	split    string
	language string
	cache    string
	noCache  bool
	batch    int
}

func newEvalCmd(g *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "eval", Short: "Run retrieval benchmarks"}
	var f evalFlags
	v := &cobra.Command{
		Use:   "vidore --dataset DIR|HF_ID|COLLECTION... [--out results.json] [--run-out run.trec] [--k 100]",
		Short: "Run the ViDoRe benchmark",
		Long: `Evaluate the retrieval model (--model) on ViDoRe datasets the way vidore-benchmark does: trec_eval
semantics for nDCG, MAP, recall and precision at 1, 3, 5, 10, 20, 50 and 100 (scores ranked as float32, ties
broken by page id in descending order), mteb's MRR and nAUC, and the reference's query deduplication and
relevance rules for QA (v1) datasets.

A dataset is a local folder in the QA layout (data/test-*.parquet) or the BEIR layout (corpus/, queries/,
qrels/), a Hugging Face dataset id (org/name[@revision], downloaded into the Hugging Face cache), or a
collection: ` + strings.Join(vidore.CollectionNames(), ", ") + `. Several datasets may be given.

Page embeddings are kept in an embedding cache (--cache), so a rerun, an interrupted run or another query set
over the same pages does not embed them again.

Outputs: a table with the average on stdout (--json: the results document instead); --out writes the results
in the layout of vidore-benchmark's results files; --run-out writes the ranking as a TREC run file
("QID Q0 DOCID RANK SCORE colsmol", --k pages per query) and --qrels-out the matching qrels, so that trec_eval
can recheck every number. QA query ids are their 0-based order among the deduplicated queries. With several
datasets, each gets its own run and qrels file: the dataset name is put before the extension.`,
		Example: `  colsmol eval vidore --dataset vidore/tabfquad_test_subsampled --out results.json
  colsmol eval vidore --dataset vidore-v1 --out v1.json --run-out v1.trec
  colsmol eval vidore --model ./my-model --dataset ./my_dataset --run-out run.trec --qrels-out qrels.trec`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			f.datasets = append(f.datasets, args...)
			return runEval(c, g, f)
		},
	}
	fl := v.Flags()
	fl.StringSliceVar(&f.datasets, "dataset", nil, "dataset folder, Hub dataset id or collection (repeat or separate with commas)")
	fl.StringVar(&f.out, "out", "", "write the results (vidore-benchmark layout) to this file")
	fl.StringVar(&f.runOut, "run-out", "", "write the ranking as a TREC run file")
	fl.StringVar(&f.qrelsOut, "qrels-out", "", "write the relevance judgments as a TREC qrels file")
	fl.IntVar(&f.k, "k", 100, "pages per query in the run file")
	fl.StringVar(&f.split, "split", "test", "dataset split")
	fl.StringVar(&f.language, "language", "", "BEIR datasets: evaluate only the queries of this language (e.g. english)")
	fl.StringVar(&f.cache, "cache", "", "embedding cache file (default $HF_HOME/colsmol/eval-embeddings.db)")
	fl.BoolVar(&f.noCache, "no-cache", false, "embed every page, without reading or writing the embedding cache")
	fl.IntVar(&f.batch, "batch", 4, "pages per embedding call")
	c.AddCommand(v)
	return c
}

func runEval(c *cobra.Command, g *globalOptions, f evalFlags) error {
	if len(f.datasets) == 0 {
		return usageErrorf("give at least one --dataset (a folder, a Hub dataset id, or %s)", strings.Join(vidore.CollectionNames(), ", "))
	}
	if f.k < 1 {
		return usageErrorf("--k %d: give the number of pages per query to write, at least 1", f.k)
	}
	if f.batch < 1 {
		return usageErrorf("--batch %d: give at least 1", f.batch)
	}
	sources, err := vidore.ParseSources(f.datasets)
	if err != nil {
		return usageErrorf("%v", err)
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	em, dir, err := openEmbedder(g)
	if err != nil {
		return err
	}
	defer em.Close()
	runner := &vidore.Runner{Embedder: em, PageBatch: f.batch}
	hubOpts := hubOptions(g, "")
	if !f.noCache {
		path := f.cache
		if path == "" {
			path = filepath.Join(hub.ColsmolDir(hubOpts), "eval-embeddings.db")
		}
		cache, err := vidore.OpenCache(expandHomeDir(path))
		if err != nil {
			return fatal(err)
		}
		defer cache.Close()
		if runner.ModelID, err = vidore.ModelIdentity(dir); err != nil {
			return fatal(err)
		}
		runner.Cache = cache
	}

	out := newEvalOutput(g, os.Stderr)
	runner.Progress = out.event
	results := &vidore.Results{
		Timestamp: time.Now(),
		Version:   "colsmol " + colsmolVersion(),
		Extra:     []vidore.Field{{Key: "model", Value: g.model}, {Key: "scorer", Value: "maxsim-float32"}},
	}
	var done []*vidore.DatasetResult
	failed := 0
	for _, s := range sources {
		res, err := evalOne(ctx, s, f, runner, hubOpts, out, len(sources) > 1)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failed++
			out.line("skip %s: %v", s.Name, err)
			continue
		}
		done = append(done, res)
		results.Datasets = append(results.Datasets, vidore.DatasetMetrics{Name: res.Name, Metrics: res.Metrics})
		if f.out != "" {
			if err := writeResultsFile(f.out, results); err != nil {
				out.done()
				return fatal(err)
			}
		}
	}
	out.done()

	if g.json {
		b, _ := results.MarshalJSON()
		fmt.Fprintf(c.OutOrStdout(), "%s\n", b)
	} else if len(done) > 0 {
		printEvalTable(c.OutOrStdout(), done)
	}
	switch {
	case ctx.Err() != nil:
		return &exitError{code: exitPartial, err: errors.New("interrupted; the embeddings computed so far are cached: run the same command again to continue")}
	case len(done) == 0:
		return fatalf("no dataset could be evaluated")
	case failed > 0:
		return &exitError{code: exitPartial}
	}
	return nil
}

// evalOne fetches, loads and evaluates one dataset and writes its run and qrels files.
func evalOne(ctx context.Context, s vidore.Source, f evalFlags, r *vidore.Runner, o hub.Options, out *evalOutput, several bool) (*vidore.DatasetResult, error) {
	dir, err := s.Fetch(ctx, f.split, o)
	if err != nil {
		return nil, err
	}
	ds, err := vidore.Load(dir, s.Name, vidore.LoadOptions{Split: f.split, Language: f.language})
	if err != nil {
		return nil, err
	}
	if f.runOut != "" || f.qrelsOut != "" {
		if err := vidore.CheckTrecIDs(ds); err != nil {
			return nil, err
		}
	}
	if err := ds.Validate(); err != nil {
		out.line("warning: %s: %v; trec_eval skips them, MRR counts them as misses", s.Name, err)
	}
	out.line("%s: %s layout, %d queries, %d pages", s.Name, ds.Format, len(ds.Queries), len(ds.Passages))
	res, err := r.Run(ctx, ds)
	if err != nil {
		return nil, err
	}
	if f.runOut != "" {
		if err := writeTrecFile(perDatasetPath(f.runOut, s.Name, several), func(w io.Writer) error {
			return vidore.WriteRun(w, res.Queries, res.Run, f.k)
		}); err != nil {
			return nil, err
		}
	}
	if f.qrelsOut != "" {
		if err := writeTrecFile(perDatasetPath(f.qrelsOut, s.Name, several), func(w io.Writer) error {
			return vidore.WriteQrels(w, ds)
		}); err != nil {
			return nil, err
		}
	}
	ndcg5, _ := res.Metrics.Get("ndcg_at_5")
	out.line("%s: nDCG@5 %.5f (%d pages embedded, %d cached, %.1f s)", s.Name, ndcg5, res.Embedded, res.UniquePages-res.Embedded, res.Seconds)
	return res, nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// perDatasetPath is path itself for a single dataset; with several, the dataset name (made safe for a file
// name) goes before the extension: run.trec → run.vidore_docvqa_test_subsampled.trec.
func perDatasetPath(path, name string, several bool) string {
	if !several {
		return path
	}
	slug := strings.Trim(unsafeFileChars.ReplaceAllString(name, "_"), "_.")
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + slug + ext
}

func writeTrecFile(path string, write func(io.Writer) error) error {
	return writeFileAtomic(path, func(w io.Writer) error { return write(w) })
}

func writeResultsFile(path string, r *vidore.Results) error {
	b, err := r.MarshalJSON()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// writeFileAtomic writes a file through a temporary file in the same folder and a rename, so that an
// interrupted run never leaves a half-written file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if d := filepath.Dir(path); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// printEvalTable prints one row per dataset and the average of each column.
func printEvalTable(w io.Writer, done []*vidore.DatasetResult) {
	cols := []struct{ title, metric string }{
		{"nDCG@5", "ndcg_at_5"}, {"nDCG@10", "ndcg_at_10"}, {"recall@5", "recall_at_5"}, {"MRR@10", "mrr_at_10"},
	}
	width := len("average (000)")
	for _, d := range done {
		width = max(width, len(d.Name))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tformat\tqueries\tpages\t", width, "dataset")
	for _, c := range cols {
		fmt.Fprintf(tw, "%s\t", c.title)
	}
	fmt.Fprintln(tw)
	sums := make([]float64, len(cols))
	for _, d := range done {
		fmt.Fprintf(tw, "%-*s\t%s\t%d\t%d\t", width, d.Name, d.Format, len(d.Queries), d.Pages)
		for i, c := range cols {
			v, _ := d.Metrics.Get(c.metric)
			sums[i] += v
			fmt.Fprintf(tw, "%.5f\t", v)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "%-*s\t\t\t\t", width, fmt.Sprintf("average (%d)", len(done)))
	for i := range cols {
		fmt.Fprintf(tw, "%.5f\t", sums[i]/float64(len(done)))
	}
	fmt.Fprintln(tw)
	tw.Flush()
}

// colsmolVersion is the module version the binary was built from ("(devel)" for a source build).
func colsmolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// evalOutput shows progress: an mpb bar per dataset on a terminal, plain lines otherwise.
type evalOutput struct {
	progressOutput

	mu   sync.Mutex
	bar  *mpb.Bar
	name string
	last time.Time
}

func newEvalOutput(g *globalOptions, w io.Writer) *evalOutput {
	return &evalOutput{progressOutput: newProgressOutput(g, w)}
}

// line prints one line above the bar (or plainly); quiet mode keeps only warnings and skips.
func (o *evalOutput) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if o.quiet && !strings.HasPrefix(s, "warning") && !strings.HasPrefix(s, "skip") {
		return
	}
	o.println(s)
}

func (o *evalOutput) event(e vidore.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e.Stage != "pages" {
		if o.verbose && o.p == nil {
			o.line("%s: queries %d/%d (%d cached)", e.Dataset, e.Done, e.Total, e.Cached)
		}
		return
	}
	if o.p != nil {
		if o.bar == nil || o.name != e.Dataset {
			if o.bar != nil {
				o.bar.Abort(false)
			}
			o.name = e.Dataset
			o.bar = o.p.AddBar(int64(e.Total),
				mpb.PrependDecorators(decor.Name(e.Dataset+" "), decor.CountersNoUnit("%d/%d pages")),
				mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Name(" "), decor.AverageETA(decor.ET_STYLE_GO)))
		}
		o.bar.SetCurrent(int64(e.Done))
		return
	}
	if o.quiet || e.Done == 0 {
		return
	}
	if e.Done == e.Total || time.Since(o.last) > 10*time.Second || o.verbose {
		o.last = time.Now()
		o.line("%s: pages %d/%d (%d embedded, %d cached)", e.Dataset, e.Done, e.Total, e.Embedded, e.Cached)
	}
}

// done stops the bars.
func (o *evalOutput) done() {
	o.mu.Lock()
	p, bar := o.p, o.bar
	o.mu.Unlock()
	if p == nil {
		return
	}
	if bar != nil && !bar.Completed() {
		bar.Abort(false)
	}
	p.Wait()
}
