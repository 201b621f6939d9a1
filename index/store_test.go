package index

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/colsmol/colsmol/maxsim"
)

// mustOpen opens a store in a temporary directory and checks its consistency when the test ends.
func mustOpen(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "colsmol.db"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := verify(s); err != nil {
			tb.Errorf("store left inconsistent: %v", err)
		}
		s.Close()
	})
	return s
}

// verify checks the bbolt file and that every document is whole: every page has its record, images,
// vectors and codes, of consistent sizes, and no page belongs to a missing document.
func verify(s *Store) error {
	return s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("bbolt check: %w", err)
		}
		d := dim(tx)
		docs := map[string]Document{}
		if err := tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
			doc, err := getDoc(tx, string(k))
			if err != nil {
				return err
			}
			docs[doc.ID] = *doc
			if got := tx.Bucket(bucketPaths).Get([]byte(doc.Path)); string(got) != doc.ID {
				return fmt.Errorf("path %s maps to %q, not %s", doc.Path, got, doc.ID)
			}
			if tx.Bucket(bucketSHAs).Get(shaKey(doc.SHA256, doc.ID)) == nil {
				return fmt.Errorf("document %s missing from the sha index", doc.ID)
			}
			for p := 0; p < doc.Pages; p++ {
				k := pageKey(doc.ID, p)
				for _, b := range [][]byte{bucketPages, bucketThumbs, bucketPreviews, bucketVectors, bucketCodes} {
					if tx.Bucket(b).Get(k) == nil {
						return fmt.Errorf("document %s page %d has no %s entry", doc.ID, p+1, b)
					}
				}
				n := len(tx.Bucket(bucketVectors).Get(k)) / 2 / max(d, 1)
				codes, err := decodeCodes(tx.Bucket(bucketCodes).Get(k), maxsim.Words(max(d, 1)))
				if err != nil || codes.N > n || (codes.N == 0) != (n == 0) {
					return fmt.Errorf("document %s page %d: codes of %d vectors for %d vectors: %v", doc.ID, p+1, codes.N, n, err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketPages, bucketThumbs, bucketPreviews, bucketVectors, bucketCodes} {
			if err := tx.Bucket(b).ForEach(func(k, v []byte) error {
				id, p := splitPageKey(k)
				if doc, ok := docs[id]; !ok || p >= doc.Pages {
					return fmt.Errorf("orphan %s entry for document %s page %d", b, id, p+1)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketPaths).ForEach(func(k, v []byte) error {
			if _, ok := docs[string(v)]; !ok {
				return fmt.Errorf("path %s maps to missing document %s", k, v)
			}
			return nil
		})
	})
}

func testDoc(path string, pages int) Document {
	return Document{Path: path, SHA256: fmt.Sprintf("%064x", len(path)*1000+pages), Size: int64(pages) * 100,
		ModTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func TestStore_Put_RoundTrip(t *testing.T) {
	s := mustOpen(t)
	sy := newSynth(1, 128, 20)
	pages := sy.pages(10, 3, 40)
	if err := s.Put(testDoc("a/report.pdf", 3), pages); err != nil {
		t.Fatal(err)
	}
	doc, err := s.Document(DocumentID("a/report.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != DocumentID("a/report.pdf") || doc.Pages != 3 || doc.IndexedAt.IsZero() {
		t.Fatalf("stored document %+v", doc)
	}
	byPath, err := s.ByPath("a/report.pdf")
	if err != nil || byPath == nil || byPath.ID != doc.ID || !byPath.ModTime.Equal(doc.ModTime) || byPath.Size != 300 {
		t.Fatalf("ByPath = %+v, %v", byPath, err)
	}
	bySHA, err := s.BySHA(doc.SHA256)
	if err != nil || bySHA == nil || bySHA.Path != "a/report.pdf" {
		t.Fatalf("BySHA = %+v, %v", bySHA, err)
	}
	if d, err := s.ByPath("nope.pdf"); d != nil || err != nil {
		t.Fatalf("ByPath(missing) = %+v, %v; want nil, nil", d, err)
	}
	if d, err := s.BySHA("00"); d != nil || err != nil {
		t.Fatalf("BySHA(missing) = %+v, %v; want nil, nil", d, err)
	}
	for i, p := range pages {
		thumb, err := s.PageImage(doc.ID, i+1, true)
		if err != nil || !bytes.Equal(thumb, p.Thumb) {
			t.Fatalf("thumb %d = %q, %v", i+1, thumb, err)
		}
		prev, err := s.PageImage(doc.ID, i+1, false)
		if err != nil || !bytes.Equal(prev, p.Preview) {
			t.Fatalf("preview %d = %q, %v", i+1, prev, err)
		}
		vecs, pos, err := s.PageVectors(doc.ID, i+1)
		if err != nil || len(vecs) != 40 || len(pos) != 2 || pos[1] != 39 {
			t.Fatalf("PageVectors %d: %d vectors, positions %v, %v", i+1, len(vecs), pos, err)
		}
		for j := range vecs {
			for k := range vecs[j] {
				if want := maxsim.ToFloat32(maxsim.FromFloat32(p.Vectors[j][k])); vecs[j][k] != want {
					t.Fatalf("page %d vector %d dim %d = %v, want %v", i+1, j, k, vecs[j][k], want)
				}
			}
		}
		rows, cols, err := s.PageLayout(doc.ID, i+1)
		if err != nil || rows != 1 || cols != i%3 {
			t.Fatalf("PageLayout %d = %d,%d,%v", i+1, rows, cols, err)
		}
	}
	for _, page := range []int{0, 4} {
		if _, err := s.PageImage(doc.ID, page, true); !errors.Is(err, ErrNotFound) {
			t.Errorf("PageImage(page %d) error = %v, want ErrNotFound", page, err)
		}
	}
	if _, _, err := s.PageVectors("nosuchdoc", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("PageVectors(unknown doc) error = %v, want ErrNotFound", err)
	}
}

func TestStore_Put_ReplacesSamePath(t *testing.T) {
	s := mustOpen(t)
	sy := newSynth(2, 128, 20)
	if err := s.Put(testDoc("x.pdf", 3), sy.pages(0, 3, 30)); err != nil {
		t.Fatal(err)
	}
	first, _ := s.ByPath("x.pdf")
	q := sy.query(1, sy.page(2, 30), 10) // near page 3 of the first version
	if _, err := s.Search(q, 3, SearchOptions{}); err != nil {
		t.Fatal(err) // loads the code snapshot, which the replacement must update
	}
	second := testDoc("x.pdf", 1)
	second.SHA256 = "feed"
	if err := s.Put(second, sy.pages(100, 1, 30)); err != nil {
		t.Fatal(err)
	}
	docs, err := s.Documents()
	if err != nil || len(docs) != 1 || docs[0].Pages != 1 || docs[0].SHA256 != "feed" || docs[0].ID != first.ID {
		t.Fatalf("Documents after replace = %+v, %v", docs, err)
	}
	if d, _ := s.BySHA(first.SHA256); d != nil {
		t.Fatalf("old content still found by sha: %+v", d)
	}
	if _, err := s.PageImage(first.ID, 2, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("page 2 of the replaced version still there: %v", err)
	}
	for _, o := range []SearchOptions{{}, {Exact: true}, {Rerank: 1}} {
		res, err := s.Search(q, 3, o)
		if err != nil || len(res) != 1 || res[0].Page != 1 {
			t.Fatalf("Search(%+v) after replace = %+v, %v", o, res, err)
		}
	}
}

func TestStore_Delete(t *testing.T) {
	s := mustOpen(t)
	sy := newSynth(3, 128, 20)
	s.Put(testDoc("a.pdf", 2), sy.pages(0, 2, 20))
	s.Put(testDoc("b.png", 1), sy.pages(5, 1, 20))
	a, _ := s.ByPath("a.pdf")
	b, _ := s.ByPath("b.png")
	if _, err := s.Search(sy.query(1, sy.page(5, 20), 5), 5, SearchOptions{Rerank: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete error = %v, want ErrNotFound", err)
	}
	docs, _ := s.Documents()
	if len(docs) != 1 || docs[0].ID != b.ID {
		t.Fatalf("Documents after delete = %+v", docs)
	}
	for _, o := range []SearchOptions{{Rerank: 1}, {Exact: true}} {
		res, err := s.Search(sy.query(1, sy.page(0, 20), 5), 5, o)
		if err != nil || len(res) != 1 || res[0].DocID != b.ID {
			t.Fatalf("Search(%+v) after delete = %+v, %v", o, res, err)
		}
	}
}

func TestStore_Put_Rejects(t *testing.T) {
	s := mustOpen(t)
	sy := newSynth(4, 128, 10)
	if err := s.Put(Document{}, nil); !errors.Is(err, ErrBadInput) {
		t.Errorf("empty path: %v", err)
	}
	ragged := sy.pages(0, 1, 4)
	ragged[0].Vectors[2] = ragged[0].Vectors[2][:64]
	if err := s.Put(testDoc("r.pdf", 1), ragged); !errors.Is(err, ErrBadInput) {
		t.Errorf("ragged vectors: %v", err)
	}
	if err := s.Put(testDoc("ok.pdf", 1), sy.pages(0, 1, 4)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(testDoc("small.pdf", 1), newSynth(4, 64, 10).pages(0, 1, 4)); !errors.Is(err, ErrBadInput) {
		t.Errorf("other dimension: %v", err)
	}
	if _, err := s.Search(newSynth(4, 64, 10).page(0, 3), 3, SearchOptions{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("query of another dimension: %v", err)
	}
	if _, err := s.Search(nil, 3, SearchOptions{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("empty query: %v", err)
	}
	bad := sy.pages(0, 1, 4)
	bad[0].ImagePositions = []int{9}
	if err := s.Put(testDoc("bad.pdf", 1), bad); !errors.Is(err, ErrBadInput) {
		t.Errorf("image position out of range: %v", err)
	}
	docs, _ := s.Documents()
	if len(docs) != 1 {
		t.Fatalf("rejected puts changed the index: %+v", docs)
	}
}

// refRanking ranks every stored page with a float64 loop over its stored (float16) vectors.
func refRanking(t *testing.T, s *Store, q [][]float32) []Result {
	t.Helper()
	docs, _ := s.Documents()
	var all []Result
	for _, d := range docs {
		for p := 1; p <= d.Pages; p++ {
			vecs, _, err := s.PageVectors(d.ID, p)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, Result{DocID: d.ID, Path: d.Path, Page: p, Score: float32(maxsim.Reference(q, vecs))})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Score > all[j].Score })
	return all
}

func TestStore_Search_ExactMatchesFloat64Reference(t *testing.T) {
	s := mustOpen(t)
	sy := newSynth(5, 128, 30)
	for d := 0; d < 12; d++ {
		if err := s.Put(testDoc(fmt.Sprintf("doc%02d.pdf", d), 4), sy.pages(uint64(d*10), 4, 20+d)); err != nil {
			t.Fatal(err)
		}
	}
	for qi := 0; qi < 5; qi++ {
		q := sy.query(uint64(qi), sy.page(uint64(qi*10+1), 20), 25)
		want := refRanking(t, s, q)
		got, err := s.Search(q, 10, SearchOptions{Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 10 {
			t.Fatalf("%d results", len(got))
		}
		for i := range got {
			if got[i].DocID != want[i].DocID || got[i].Page != want[i].Page || got[i].Path != want[i].Path ||
				math.Abs(float64(got[i].Score-want[i].Score)) > 1e-5*math.Abs(float64(want[i].Score)) {
				t.Fatalf("query %d rank %d: got %+v, want %+v", qi, i+1, got[i], want[i])
			}
		}
	}
}

// TestStore_Search_BinaryRerankGuard is issue 10's guard: on a fixed synthetic collection the binary
// search returns exactly the exact top 5, both with every page's full codes (two phases) and with the
// sketch phase in front (three phases: 600 pages, 150 candidates, pages of 200 vectors sketched to 64).
func TestStore_Search_BinaryRerankGuard(t *testing.T) {
	s := mustOpen(t)
	sy := newSynth(6, 128, 40)
	const docs, perDoc, vectors = 60, 10, 200
	for d := 0; d < docs; d++ {
		if err := s.Put(testDoc(fmt.Sprintf("g%03d.pdf", d), perDoc), sy.pages(uint64(d*perDoc), perDoc, vectors)); err != nil {
			t.Fatal(err)
		}
	}
	for qi := 0; qi < 20; qi++ {
		target := uint64(qi * 29 % (docs * perDoc))
		q := sy.query(uint64(qi), sy.page(target, vectors), 25)
		exact, err := s.Search(q, 5, SearchOptions{Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []SearchOptions{{Rerank: 100}, {Candidates: 150, Rerank: 100}} {
			got, err := s.Search(q, 5, o)
			if err != nil {
				t.Fatal(err)
			}
			for i := range exact {
				if got[i] != exact[i] {
					t.Fatalf("query %d rank %d, %+v: binary search %+v, exact %+v", qi, i+1, o, got[i], exact[i])
				}
			}
		}
	}
}

func TestStore_Search_ConcurrentWithWriter(t *testing.T) {
	s := mustOpen(t)
	sy := newSynth(7, 128, 20)
	if err := s.Put(testDoc("base.pdf", 3), sy.pages(0, 3, 30)); err != nil {
		t.Fatal(err)
	}
	q := sy.query(1, sy.page(1, 30), 8)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				res, err := s.Search(q, 3, SearchOptions{Exact: i%2 == 0, Rerank: 2})
				if err != nil || len(res) == 0 {
					errs <- fmt.Errorf("search: %v, %d results", err, len(res))
					return
				}
			}
		}(w)
	}
	for i := 0; i < 20; i++ {
		if err := s.Put(testDoc(fmt.Sprintf("w%d.pdf", i%5), 2), sy.pages(uint64(100+i), 2, 30)); err != nil {
			t.Fatal(err)
		}
		if i%7 == 6 {
			if err := s.Delete(DocumentID(fmt.Sprintf("w%d.pdf", i%5))); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestStore_Stats(t *testing.T) {
	s := mustOpen(t)
	sy := newSynth(8, 128, 20)
	s.Put(testDoc("a.pdf", 2), sy.pages(0, 2, 100))
	s.Put(testDoc("b.pdf", 1), sy.pages(9, 1, 50))
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 2 || st.Pages != 3 || st.Vectors != 250 || st.Dim != 128 {
		t.Fatalf("stats %+v", st)
	}
	// Codes: a count word, then blocks of 8 codes of 16 bytes: 100 vectors → 13 blocks, 50 → 7.
	if wantCodes := int64(3*8 + (13+13+7)*128); st.VectorBytes != 250*128*2 || st.CodeBytes != wantCodes {
		t.Fatalf("vector bytes %d (want %d), code bytes %d (want %d)", st.VectorBytes, 250*256, st.CodeBytes, wantCodes)
	}
	if st.FileBytes < st.VectorBytes || st.BytesPerPage != float64(st.FileBytes)/3 {
		t.Fatalf("file bytes %d, per page %v", st.FileBytes, st.BytesPerPage)
	}
	// Sketches: at most 64 codes a page (maxsim.DefaultSketchSize): 100 vectors → 64 codes, 8 blocks;
	// 50 vectors stay 50, 7 blocks. Only the sketches stay resident.
	if want := int64(3*8 + (8+8+7)*128); st.SketchBytes != want {
		t.Fatalf("sketch bytes %d, want %d", st.SketchBytes, want)
	}
	if want := int64((8+8+7)*128 + 3*pageOverhead); st.ResidentBytes != want {
		t.Fatalf("resident estimate %d, want %d", st.ResidentBytes, want)
	}
}

func TestOpen_SchemaMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("99")) })
	s.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrSchema) {
		t.Fatalf("Open of a schema-99 file: %v, want ErrSchema", err)
	}
}

func TestStore_Search_RejectsOtherDimensionBeforeSketches(t *testing.T) {
	s := mustOpen(t)
	if err := s.Put(testDoc("more.pdf", 5), newSynth(4, 128, 10).pages(1, 5, 4)); err != nil {
		t.Fatal(err)
	}
	// 5 pages > 2 × 1 candidate: the sketch phase would run; a 64-dimension query must be refused first.
	if _, err := s.Search(newSynth(4, 64, 10).page(0, 3), 1, SearchOptions{Candidates: 1, Rerank: 1}); !errors.Is(err, ErrBadInput) {
		t.Errorf("query of another dimension, sketch phase: %v", err)
	}
}

// TestOpen_UpgradesSchema2 opens a file as version 2 left it (no sketches): read-only it is searched
// without the sketch phase; opened for writing it gets the sketches a fresh Put stores.
func TestOpen_UpgradesSchema2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sy := newSynth(11, 128, 30)
	for d := 0; d < 30; d++ {
		if err := s.Put(testDoc(fmt.Sprintf("u%02d.pdf", d), 4), sy.pages(uint64(d*4), 4, 150)); err != nil {
			t.Fatal(err)
		}
	}
	q := sy.query(1, sy.page(17, 150), 20)
	o := SearchOptions{Candidates: 30, Rerank: 20}
	want, err := s.Search(q, 5, o)
	if err != nil {
		t.Fatal(err)
	}
	fresh := map[string]string{}
	err = s.db.Update(func(tx *bolt.Tx) error {
		tx.Bucket(bucketSketches).ForEach(func(k, v []byte) error { fresh[string(k)] = string(v); return nil })
		if err := tx.DeleteBucket(bucketSketches); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("2"))
	})
	if err != nil || len(fresh) != 120 {
		t.Fatalf("making a version 2 file: %v (%d sketches)", err, len(fresh))
	}
	s.Close()

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of a version 2 file: %v", err)
	}
	if got, err := ro.Search(q, 5, o); err != nil || !slices.Equal(got, want) {
		t.Fatalf("version 2 file, read-only: %+v, %v; want %+v", got, err, want)
	}
	// Searched without sketches, every page's codes read from the file: only the page list is resident.
	if st, err := ro.Stats(); err != nil || st.SketchBytes != 0 || st.ResidentBytes != 120*pageOverhead {
		t.Errorf("stats of a version 2 file: %+v, %v; want resident %d", st, err, 120*pageOverhead)
	}
	ro.Close()

	rw, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("upgrading a version 2 file: %v", err)
	}
	defer rw.Close()
	rw.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchema); string(v) != fmt.Sprint(SchemaVersion) {
			t.Errorf("schema after upgrade %q", v)
		}
		n := 0
		tx.Bucket(bucketSketches).ForEach(func(k, v []byte) error {
			n++
			if fresh[string(k)] != string(v) {
				t.Errorf("page %x: upgraded sketch differs from the one Put stored", k)
			}
			return nil
		})
		if n != len(fresh) {
			t.Errorf("%d sketches after upgrade, want %d", n, len(fresh))
		}
		return nil
	})
	if got, err := rw.Search(q, 5, o); err != nil || !slices.Equal(got, want) {
		t.Fatalf("upgraded file: %+v, %v; want %+v", got, err, want)
	}
}

func TestOpen_ReadOnlyEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if res, err := ro.Search([][]float32{{1, 0}}, 3, SearchOptions{}); err != nil || len(res) != 0 {
		t.Fatalf("search of an empty index: %v, %v", res, err)
	}
	if err := ro.Put(testDoc("a.pdf", 0), nil); err == nil {
		t.Fatal("Put on a read-only store succeeded")
	}
}

func TestStore_Relocate(t *testing.T) {
	s := mustOpen(t)
	sy := newSynth(9, 128, 20)
	if err := s.Put(testDoc("old/a.pdf", 2), sy.pages(0, 2, 25)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(testDoc("new/a.pdf", 1), sy.pages(50, 1, 25)); err != nil { // will be replaced
		t.Fatal(err)
	}
	old, _ := s.ByPath("old/a.pdf")
	q := sy.query(3, sy.page(1, 25), 10)
	before, err := s.Search(q, 1, SearchOptions{Rerank: 1})
	if err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := s.Relocate(old.ID, Document{Path: "new/a.pdf", Size: 7, ModTime: mtime}); err != nil {
		t.Fatal(err)
	}
	docs, _ := s.Documents()
	if len(docs) != 1 {
		t.Fatalf("documents after relocate: %+v", docs)
	}
	d := docs[0]
	if d.Path != "new/a.pdf" || d.ID != DocumentID("new/a.pdf") || d.Pages != 2 || d.SHA256 != old.SHA256 ||
		!d.ModTime.Equal(mtime) || d.Size != 7 || !d.IndexedAt.Equal(old.IndexedAt) {
		t.Fatalf("relocated document %+v (was %+v)", d, old)
	}
	vecs, _, err := s.PageVectors(d.ID, 2)
	if err != nil || len(vecs) != 25 {
		t.Fatalf("relocated page 2: %d vectors, %v", len(vecs), err)
	}
	for _, o := range []SearchOptions{{Rerank: 1}, {Exact: true}} {
		after, err := s.Search(q, 1, o)
		if err != nil || len(after) != 1 || after[0].DocID != d.ID || after[0].Page != before[0].Page || after[0].Score != before[0].Score {
			t.Fatalf("Search(%+v) after relocate = %+v, %v; before %+v", o, after, err, before)
		}
	}
	if err := s.Relocate("missing", Document{Path: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Relocate(missing) = %v, want ErrNotFound", err)
	}
	// Same path: a touched file keeps its id and pages.
	if err := s.Relocate(d.ID, Document{Path: "new/a.pdf", Size: 8}); err != nil {
		t.Fatal(err)
	}
	if d2, _ := s.ByPath("new/a.pdf"); d2 == nil || d2.Size != 8 || d2.Pages != 2 {
		t.Fatalf("after in-place relocate: %+v", d2)
	}
}

func TestStore_CodePool(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "pooled.db"), Options{CodePool: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := verify(s); err != nil {
			t.Error(err)
		}
		s.Close()
	})
	sy := newSynth(10, 128, 30)
	for d := 0; d < 30; d++ {
		if err := s.Put(testDoc(fmt.Sprintf("p%02d.pdf", d), 5), sy.pages(uint64(d*5), 5, 60)); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := s.Stats()
	if want := int64(150 * (8 + 3*128)); st.Vectors != 150*60 || st.CodeBytes != want {
		t.Fatalf("vectors %d (want %d), code bytes %d (want %d: codes of 20 pooled vectors per page)", st.Vectors, 150*60, st.CodeBytes, want)
	}
	for qi := 0; qi < 5; qi++ {
		q := sy.query(uint64(qi), sy.page(uint64(qi*31), 60), 25)
		exact, _ := s.Search(q, 3, SearchOptions{Exact: true})
		got, err := s.Search(q, 3, SearchOptions{Rerank: 30})
		if err != nil {
			t.Fatal(err)
		}
		// The rerank scores whole vectors, so any page it returns carries its exact score.
		for i := range got {
			if got[i].Score > exact[0].Score || (i == 0 && got[0] != exact[0]) {
				t.Fatalf("query %d rank %d: %+v, exact %+v", qi, i+1, got[i], exact)
			}
		}
	}
}
