package vidore

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// table is a set of parquet shards read as one table: the rows of the shards in sorted path order, as the
// Hugging Face datasets library concatenates data/test-*.parquet.
type table struct {
	paths []string
	files []*parquet.File
	close []io.Closer
	rows  int
}

// shards returns the files of dir matching split-*.parquet in sorted order (fsspec globs in sorted order).
func shards(dir, split string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, split+"-*.parquet"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	return paths, nil
}

// openTable opens the given parquet shards. Close releases them.
func openTable(paths []string) (*table, error) {
	t := &table{paths: paths}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Close()
			return nil, err
		}
		t.close = append(t.close, f)
		st, err := f.Stat()
		if err != nil {
			t.Close()
			return nil, err
		}
		pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("%s is not a readable parquet file: %w", p, err)
		}
		t.files = append(t.files, pf)
		t.rows += int(pf.NumRows())
	}
	return t, nil
}

// Close closes the shard files.
func (t *table) Close() {
	for _, c := range t.close {
		c.Close()
	}
	t.close = nil
}

// has reports whether every shard has a leaf column at path (for example "image", "bytes").
func (t *table) has(path ...string) bool {
	if len(t.files) == 0 {
		return false
	}
	for _, f := range t.files {
		if _, ok := f.Schema().Lookup(path...); !ok {
			return false
		}
	}
	return true
}

// column calls fn with the value of the leaf column at path for every row of the table, in row order. The
// column must not be repeated: every row has exactly one value, null when the column or one of its parents is
// null. The value is only valid during the call (byte arrays must be copied to be kept).
func (t *table) column(fn func(row int, v parquet.Value) error, path ...string) error {
	name := strings.Join(path, ".")
	row := 0
	for i, f := range t.files {
		leaf, ok := f.Schema().Lookup(path...)
		if !ok {
			return fmt.Errorf("%s has no column %q", t.paths[i], name)
		}
		if leaf.MaxRepetitionLevel != 0 {
			return fmt.Errorf("%s: column %q is a list; a single value per row is expected", t.paths[i], name)
		}
		start := row
		for _, rg := range f.RowGroups() {
			n, err := readChunk(rg.ColumnChunks()[leaf.ColumnIndex], row, fn)
			if err != nil {
				return fmt.Errorf("%s: column %q: %w", t.paths[i], name, err)
			}
			if int64(n) != rg.NumRows() {
				return fmt.Errorf("%s: column %q has %d values in a row group of %d rows", t.paths[i], name, n, rg.NumRows())
			}
			row += n
		}
		if int64(row-start) != f.NumRows() {
			return fmt.Errorf("%s: column %q has %d values for %d rows", t.paths[i], name, row-start, f.NumRows())
		}
	}
	return nil
}

// readChunk calls fn for each value of a column chunk, numbering rows from first, and returns the count.
func readChunk(chunk parquet.ColumnChunk, first int, fn func(row int, v parquet.Value) error) (int, error) {
	pages := chunk.Pages()
	defer pages.Close()
	buf := make([]parquet.Value, 64)
	n := 0
	for {
		page, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		values := page.Values()
		for {
			k, err := values.ReadValues(buf)
			for _, v := range buf[:k] {
				if err := fn(first+n, v); err != nil {
					parquet.Release(page)
					return n, err
				}
				n++
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				parquet.Release(page)
				return n, err
			}
		}
		parquet.Release(page)
	}
}

// strings reads a string column; null values are returned as nil.
func (t *table) strings(path ...string) ([]*string, error) {
	out := make([]*string, t.rows)
	err := t.column(func(row int, v parquet.Value) error {
		if v.IsNull() {
			return nil
		}
		if v.Kind() != parquet.ByteArray {
			return fmt.Errorf("row %d: expected a string, found %s", row, v.Kind())
		}
		s := string(v.ByteArray())
		out[row] = &s
		return nil
	}, path...)
	return out, err
}

// ids reads an identifier column that may hold integers or strings, formatted as Python's str() would.
func (t *table) ids(path ...string) ([]string, error) {
	out := make([]string, t.rows)
	err := t.column(func(row int, v parquet.Value) error {
		s, err := idString(v)
		if err != nil {
			return fmt.Errorf("row %d: %w", row, err)
		}
		out[row] = s
		return nil
	}, path...)
	return out, err
}

func idString(v parquet.Value) (string, error) {
	if v.IsNull() {
		return "", errors.New("missing id (null)")
	}
	switch v.Kind() {
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10), nil
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10), nil
	case parquet.ByteArray:
		return string(v.ByteArray()), nil
	}
	return "", fmt.Errorf("expected an integer or string id, found %s", v.Kind())
}

// relevances reads a qrels score column that may hold integers or floats; floats are truncated toward zero as
// Python's int() does (some published revisions store float64 scores).
func (t *table) relevances(path ...string) ([]int, error) {
	out := make([]int, t.rows)
	err := t.column(func(row int, v parquet.Value) error {
		if v.IsNull() {
			return fmt.Errorf("row %d: missing relevance score (null)", row)
		}
		var f float64
		switch v.Kind() {
		case parquet.Int32:
			out[row] = int(v.Int32())
			return nil
		case parquet.Int64:
			out[row] = int(v.Int64())
			return nil
		case parquet.Boolean:
			if v.Boolean() {
				out[row] = 1
			}
			return nil
		case parquet.Float:
			f = float64(v.Float())
		case parquet.Double:
			f = v.Double()
		default:
			return fmt.Errorf("row %d: expected a numeric relevance score, found %s", row, v.Kind())
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("row %d: relevance score %v is not a number", row, f)
		}
		out[row] = int(math.Trunc(f))
		return nil
	}, path...)
	return out, err
}

// images reads the Hugging Face Image struct column name{bytes, path}: the encoded image file of each row.
// Rows with identical bytes share one slice (TAT-DQA repeats 277 pages over 1,663 rows). A row whose bytes
// are null is an error, since the file it names is not part of the dataset.
func (t *table) images(name string) ([][]byte, error) {
	out := make([][]byte, t.rows)
	seen := map[[32]byte][]byte{}
	err := t.column(func(row int, v parquet.Value) error {
		if v.IsNull() {
			return fmt.Errorf("row %d has no image bytes", row)
		}
		b := v.ByteArray()
		k := sha256.Sum256(b)
		if s, ok := seen[k]; ok {
			out[row] = s
			return nil
		}
		out[row] = append([]byte(nil), b...)
		seen[k] = out[row]
		return nil
	}, name, "bytes")
	return out, err
}
