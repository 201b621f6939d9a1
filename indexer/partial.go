package indexer

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/colsmol/colsmol/index"
)

// partialStore keeps the pages of documents whose embedding is under way, one file per page, so that a run
// that is interrupted (Ctrl-C, kill -9, a crash) in the middle of a long PDF resumes at the page where it
// stopped instead of at the document's first page. The index itself only ever receives whole documents.
//
// The files live in a folder next to the index file (INDEX.partial/KEY/NNNNNN.page), where KEY is the
// document's sha256 plus a digest of everything that shapes its vectors (model folder, render and tile
// settings), so a resumed run never mixes pages made differently. Each file is written to a temporary name
// and renamed, so a page file is either complete or absent; an unreadable one is simply embedded again.
type partialStore struct {
	dir      string // "" disables the store
	settings string
}

// partialPage is the stored form of one embedded page.
type partialPage struct {
	Width, Height  int
	Rows, Cols     int
	Thumb, Preview []byte
	Vectors        [][]float32
	ImagePositions []int
}

func newPartialStore(dbPath string, settings ...any) partialStore {
	if dbPath == "" {
		return partialStore{}
	}
	h := sha256.New()
	fmt.Fprintln(h, settings...)
	return partialStore{dir: dbPath + ".partial", settings: hex.EncodeToString(h.Sum(nil))[:12]}
}

func (p partialStore) docDir(sha string) string {
	return filepath.Join(p.dir, sha+"-"+p.settings)
}

func pageFile(i int) string { return fmt.Sprintf("%06d.page", i) }

// load returns page i of the document with content sha, if an earlier run stored it.
func (p partialStore) load(sha string, i int) (index.Page, bool) {
	if p.dir == "" {
		return index.Page{}, false
	}
	data, err := os.ReadFile(filepath.Join(p.docDir(sha), pageFile(i)))
	if err != nil {
		return index.Page{}, false
	}
	var pp partialPage
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&pp); err != nil || len(pp.Vectors) == 0 {
		return index.Page{}, false
	}
	return index.Page{Width: pp.Width, Height: pp.Height, Tiles: index.Tiles{Rows: pp.Rows, Cols: pp.Cols},
		Thumb: pp.Thumb, Preview: pp.Preview, Vectors: pp.Vectors, ImagePositions: pp.ImagePositions}, true
}

// save stores page i of the document with content sha. Failures only cost the resumption, so they are
// returned for the caller to ignore.
func (p partialStore) save(sha string, i int, pg index.Page) error {
	if p.dir == "" {
		return nil
	}
	dir := p.docDir(sha)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	pp := partialPage{Width: pg.Width, Height: pg.Height, Rows: pg.Tiles.Rows, Cols: pg.Tiles.Cols,
		Thumb: pg.Thumb, Preview: pg.Preview, Vectors: pg.Vectors, ImagePositions: pg.ImagePositions}
	if err := gob.NewEncoder(&buf).Encode(&pp); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(buf.Bytes())
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %v %v", f.Name(), werr, cerr)
	}
	return os.Rename(f.Name(), filepath.Join(dir, pageFile(i)))
}

// drop removes the pages of a document once it is in the index.
func (p partialStore) drop(sha string) {
	if p.dir != "" {
		os.RemoveAll(p.docDir(sha))
	}
}

// clear removes everything (after a run that went through: what is left belongs to files that failed or
// changed).
func (p partialStore) clear() {
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// has reports whether page i of the document with content sha is stored.
func (p partialStore) has(sha string, i int) bool {
	if p.dir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(p.docDir(sha), pageFile(i)))
	return err == nil
}
