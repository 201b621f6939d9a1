package vidore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Format is the layout of a ViDoRe dataset.
type Format int

const (
	// FormatQA is the ViDoRe v1 layout: one table data/<split>-*.parquet, one row per page image with an
	// optional query.
	FormatQA Format = iota + 1
	// FormatBEIR is the ViDoRe v2/v3 layout (and the *_beir twins of v1): corpus/, queries/ and qrels/ tables.
	FormatBEIR
)

// String names the format as vidore-benchmark's --dataset-format does.
func (f Format) String() string {
	switch f {
	case FormatQA:
		return "qa"
	case FormatBEIR:
		return "beir"
	}
	return "unknown"
}

// Query is one evaluated query.
type Query struct {
	// ID identifies the query in the qrels and the run, as the reference tooling does: the query text in the
	// QA format, str(query-id) in the BEIR format.
	ID string
	// RunID identifies the query in TREC files (no white space): the query's 0-based position among the
	// deduplicated queries in the QA format (the query-id the *_beir twins give it), ID in the BEIR format.
	RunID string
	// Text is what is embedded.
	Text string
}

// Passage is one row of the passage pool, in table order. Several rows may share a DocID: their scores
// are merged as the reference evaluators do (see BuildRun).
type Passage struct {
	DocID string
	Image []byte // the encoded image file (PNG, JPEG, ...)
}

// Dataset is a loaded benchmark dataset: queries, the passage pool and the relevance judgments.
type Dataset struct {
	// Name is the key of the dataset in the results file: the Hub id or the folder as given.
	Name   string
	Format Format
	// Queries are the evaluated queries in evaluation order.
	Queries []Query
	// Passages are all rows of the passage pool in table order.
	Passages []Passage
	// Qrels maps Query.ID to the graded relevance of documents (DocID → grade).
	Qrels Qrels
	// IgnoreIdenticalIDs drops a document from a query's run when its id equals the query id, as
	// vidore-benchmark does for QA datasets with visual retrievers.
	IgnoreIdenticalIDs bool
}

// Qrels are relevance judgments: query id → document id → grade (≥ 1 relevant, 0 judged not relevant).
type Qrels map[string]map[string]int

// LoadOptions select what of a dataset folder is read.
type LoadOptions struct {
	// Split is the split to read (default "test").
	Split string
	// Language keeps only BEIR queries whose "language" column equals it (MTEB style); empty keeps all
	// (vidore-benchmark style).
	Language string
}

func (o LoadOptions) split() string {
	if o.Split == "" {
		return "test"
	}
	return o.Split
}

// DetectFormat tells which layout the dataset folder dir has.
func DetectFormat(dir string, o LoadOptions) (Format, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return 0, fmt.Errorf("dataset %s: %w", dir, err)
	}
	if !st.IsDir() {
		return 0, fmt.Errorf("dataset %s is not a folder", dir)
	}
	split := o.split()
	if p, _ := shards(filepath.Join(dir, "data"), split); len(p) > 0 {
		return FormatQA, nil
	}
	c, _ := shards(filepath.Join(dir, "corpus"), split)
	q, _ := shards(filepath.Join(dir, "queries"), split)
	r, _ := shards(filepath.Join(dir, "qrels"), split)
	if len(c) > 0 && len(q) > 0 && len(r) > 0 {
		return FormatBEIR, nil
	}
	return 0, fmt.Errorf("dataset %s has neither data/%s-*.parquet (QA layout) nor corpus/, queries/ and qrels/%s-*.parquet (BEIR layout); pass a ViDoRe dataset folder or Hub id", dir, split, split)
}

// Load reads the dataset folder dir in whichever layout it has. name becomes Dataset.Name.
func Load(dir, name string, o LoadOptions) (*Dataset, error) {
	f, err := DetectFormat(dir, o)
	if err != nil {
		return nil, err
	}
	if f == FormatQA {
		return LoadQA(dir, name, o)
	}
	return LoadBEIR(dir, name, o)
}

// LoadQA reads a QA-layout dataset (vidore-benchmark's ViDoReEvaluatorQA):
//   - every row is a passage, in row order (shards in sorted path order), null-query rows included;
//   - the queries are the non-null values of "query" in row order, each kept at its first occurrence;
//   - the one relevant page of a query is the image_filename of the LAST row carrying that query.
func LoadQA(dir, name string, o LoadOptions) (*Dataset, error) {
	paths, err := shards(filepath.Join(dir, "data"), o.split())
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("dataset %s: no data/%s-*.parquet files", dir, o.split())
	}
	t, err := openTable(paths)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	defer t.Close()
	queries, err := t.strings("query")
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	files, err := t.strings("image_filename")
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	images, err := t.images("image")
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	ds := &Dataset{Name: name, Format: FormatQA, Qrels: Qrels{}, IgnoreIdenticalIDs: true}
	last := map[string]string{}
	for i := range t.rows {
		if files[i] == nil {
			return nil, fmt.Errorf("dataset %s: row %d has no image_filename", dir, i)
		}
		ds.Passages = append(ds.Passages, Passage{DocID: *files[i], Image: images[i]})
		if queries[i] == nil {
			continue
		}
		q := *queries[i]
		if _, seen := last[q]; !seen {
			ds.Queries = append(ds.Queries, Query{ID: q, RunID: strconv.Itoa(len(ds.Queries)), Text: q})
		}
		last[q] = *files[i]
	}
	if len(ds.Queries) == 0 {
		return nil, fmt.Errorf("dataset %s: no valid queries found (every row's query is null)", dir)
	}
	for q, fn := range last {
		ds.Qrels[q] = map[string]int{fn: 1}
	}
	return ds, nil
}

// LoadBEIR reads a BEIR-layout dataset (vidore-benchmark's ViDoReEvaluatorBEIR): corpus rows (corpus-id,
// image) are the passages in order, queries rows (query-id, query) the queries in order, and qrels rows
// (query-id, corpus-id, score) the graded judgments (the last row wins for a repeated pair; float scores
// are cast to int). Integer ids become their decimal strings.
func LoadBEIR(dir, name string, o LoadOptions) (*Dataset, error) {
	ds := &Dataset{Name: name, Format: FormatBEIR, Qrels: Qrels{}}
	if err := loadCorpus(dir, o, ds); err != nil {
		return nil, err
	}
	if err := loadQueries(dir, o, ds); err != nil {
		return nil, err
	}
	if err := loadQrels(dir, o, ds); err != nil {
		return nil, err
	}
	return ds, nil
}

func openConfig(dir, config string, o LoadOptions) (*table, error) {
	paths, err := shards(filepath.Join(dir, config), o.split())
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("dataset %s: no %s/%s-*.parquet files", dir, config, o.split())
	}
	t, err := openTable(paths)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	return t, nil
}

func loadCorpus(dir string, o LoadOptions, ds *Dataset) error {
	t, err := openConfig(dir, "corpus", o)
	if err != nil {
		return err
	}
	defer t.Close()
	ids, err := t.ids("corpus-id")
	if err != nil {
		return fmt.Errorf("dataset %s corpus: %w", dir, err)
	}
	images, err := t.images("image")
	if err != nil {
		return fmt.Errorf("dataset %s corpus: %w", dir, err)
	}
	for i := range ids {
		ds.Passages = append(ds.Passages, Passage{DocID: ids[i], Image: images[i]})
	}
	if len(ds.Passages) == 0 {
		return fmt.Errorf("dataset %s: the corpus is empty", dir)
	}
	return nil
}

func loadQueries(dir string, o LoadOptions, ds *Dataset) error {
	t, err := openConfig(dir, "queries", o)
	if err != nil {
		return err
	}
	defer t.Close()
	ids, err := t.ids("query-id")
	if err != nil {
		return fmt.Errorf("dataset %s queries: %w", dir, err)
	}
	texts, err := t.strings("query")
	if err != nil {
		return fmt.Errorf("dataset %s queries: %w", dir, err)
	}
	var langs []*string
	if o.Language != "" {
		if !t.has("language") {
			return fmt.Errorf("dataset %s: --language %s given but the queries have no language column", dir, o.Language)
		}
		if langs, err = t.strings("language"); err != nil {
			return fmt.Errorf("dataset %s queries: %w", dir, err)
		}
	}
	seen := map[string]bool{}
	for i, id := range ids {
		if langs != nil && (langs[i] == nil || *langs[i] != o.Language) {
			continue
		}
		if texts[i] == nil {
			return fmt.Errorf("dataset %s: query %s has no text (null)", dir, id)
		}
		if seen[id] {
			return fmt.Errorf("dataset %s: query id %s appears twice in queries", dir, id)
		}
		seen[id] = true
		ds.Queries = append(ds.Queries, Query{ID: id, RunID: id, Text: *texts[i]})
	}
	if len(ds.Queries) == 0 {
		if o.Language != "" {
			return fmt.Errorf("dataset %s: no query has language %q", dir, o.Language)
		}
		return fmt.Errorf("dataset %s: no queries", dir)
	}
	return nil
}

func loadQrels(dir string, o LoadOptions, ds *Dataset) error {
	t, err := openConfig(dir, "qrels", o)
	if err != nil {
		return err
	}
	defer t.Close()
	qids, err := t.ids("query-id")
	if err != nil {
		return fmt.Errorf("dataset %s qrels: %w", dir, err)
	}
	cids, err := t.ids("corpus-id")
	if err != nil {
		return fmt.Errorf("dataset %s qrels: %w", dir, err)
	}
	scores, err := t.relevances("score")
	if err != nil {
		return fmt.Errorf("dataset %s qrels: %w", dir, err)
	}
	for i := range qids {
		m := ds.Qrels[qids[i]]
		if m == nil {
			m = map[string]int{}
			ds.Qrels[qids[i]] = m
		}
		m[cids[i]] = scores[i]
	}
	return nil
}

// Validate reports problems that make the metrics differ from what the dataset means: queries without
// judgments (trec_eval skips them while MRR counts them as misses). It returns nil when every query has at
// least one judgment.
func (ds *Dataset) Validate() error {
	var missing []string
	for _, q := range ds.Queries {
		if len(ds.Qrels[q.ID]) == 0 {
			missing = append(missing, q.RunID)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if len(missing) > 5 {
		return fmt.Errorf("%d of %d queries have no relevance judgments (ids %v ...)", len(missing), len(ds.Queries), missing[:5])
	}
	return fmt.Errorf("%d of %d queries have no relevance judgments (ids %v)", len(missing), len(ds.Queries), missing)
}

// errNoQueries is returned when a run is asked for a dataset without queries.
var errNoQueries = errors.New("the dataset has no queries")
