package index

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/colsmol/colsmol/maxsim"
)

// codeSnapshot is an immutable copy of every page's sketch (a few sign codes summarising the page, see
// maxsim.SketchCodes), for the coarse first phase. The pages' full sign codes stay in the file and are
// read through the memory map for the candidates only. Writers replace the snapshot as a whole (copy on
// write) after each commit, so searches never lock.
type codeSnapshot struct {
	pages    []pageSketch
	unsketch bool // a version 2 file opened read-only: no sketches, the search scores every page's codes
}

// pageSketch is the sketch of one page.
type pageSketch struct {
	docID  string
	page   int // 0-based
	sketch maxsim.PackedCodes
}

// pageOverhead is the bookkeeping a snapshot keeps per page beside its sketch (slice headers, the
// document id string), for the resident-memory figures of Stats.
const pageOverhead = 80

// snapshot returns the sketches of all pages, loading them on first use.
func (s *Store) snapshot() (*codeSnapshot, error) {
	if snap := s.codes.Load(); snap != nil {
		return snap, nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if snap := s.codes.Load(); snap != nil {
		return snap, nil
	}
	snap := &codeSnapshot{}
	err := s.db.View(func(tx *bolt.Tx) error {
		d := dim(tx)
		codes := tx.Bucket(bucketCodes)
		if codes == nil || d == 0 {
			return nil
		}
		w := maxsim.Words(d)
		sketches := tx.Bucket(bucketSketches)
		// A version 2 file opened read-only has none: computing them here would cost about a second
		// per thousand pages in every process, so such a file is searched without the sketch phase
		// (as version 2 searched) until a writer (index, serve) upgrades it.
		snap.unsketch = sketches == nil
		return codes.ForEach(func(k, v []byte) error {
			var sk maxsim.PackedCodes
			if sketches != nil {
				raw := sketches.Get(k)
				if raw == nil {
					return fmt.Errorf("page %x has no sketch", k)
				}
				var err error
				if sk, err = decodeCodes(raw, w); err != nil {
					return fmt.Errorf("sketch of page %x: %w", k, err)
				}
			}
			id, page := splitPageKey(k)
			snap.pages = append(snap.pages, pageSketch{docID: id, page: page, sketch: sk})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load page sketches: %w; the index file may be damaged: index the folder again into a new --db", err)
	}
	s.codes.Store(snap)
	return snap, nil
}

// sketchFromStored computes the sketch of a page from its stored sign codes (encodeCodes).
func sketchFromStored(v []byte, w int) (maxsim.PackedCodes, error) {
	codes, err := decodeCodes(v, w)
	if err != nil {
		return maxsim.PackedCodes{}, err
	}
	return sketchOf(maxsim.UnpackCodes(codes, w), codes.N, w), nil
}

// sketchOf returns the packed sketch of n plain-layout codes of w words.
func sketchOf(raw []uint64, n, w int) maxsim.PackedCodes {
	sk := maxsim.SketchCodes(raw, n, w, maxsim.DefaultSketchSize)
	return maxsim.PackCodes(sk, len(sk)/max(w, 1), w)
}

// addSketches upgrades a version 2 file inside tx: it stores a sketch for every page and records the
// current schema version. The sketches are computed on every core first, then written.
func addSketches(tx *bolt.Tx) error {
	if d := dim(tx); d > 0 {
		w := maxsim.Words(d)
		var keys, vals [][]byte
		tx.Bucket(bucketCodes).ForEach(func(k, v []byte) error {
			keys, vals = append(keys, k), append(vals, v)
			return nil
		})
		sketches := make([][]byte, len(keys))
		errs := make([]error, len(keys))
		var next atomic.Int64
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < len(keys); i = int(next.Add(1)) - 1 {
					sk, err := sketchFromStored(vals[i], w)
					sketches[i], errs[i] = encodeCodes(sk), err
				}
			}()
		}
		wg.Wait()
		b := tx.Bucket(bucketSketches)
		for i, k := range keys {
			if errs[i] != nil {
				return fmt.Errorf("upgrade to schema %d: sketch of page %x: %w", SchemaVersion, k, errs[i])
			}
			if err := b.Put(k, sketches[i]); err != nil {
				return fmt.Errorf("upgrade to schema %d: %w", SchemaVersion, err)
			}
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
}

// updateCodes applies a committed write to the loaded snapshot, if any: the pages of the removed
// documents go, the added document's pages come in. The caller holds writeMu.
func (s *Store) updateCodes(removed []string, addedID string, added []maxsim.PackedCodes) {
	old := s.codes.Load()
	if old == nil {
		return
	}
	gone := make(map[string]bool, len(removed))
	for _, id := range removed {
		gone[id] = true
	}
	next := &codeSnapshot{pages: make([]pageSketch, 0, len(old.pages)+len(added)), unsketch: old.unsketch}
	for _, pc := range old.pages {
		if !gone[pc.docID] {
			next.pages = append(next.pages, pc)
		}
	}
	for i, c := range added {
		next.pages = append(next.pages, pageSketch{docID: addedID, page: i, sketch: c})
	}
	s.codes.Store(next)
}
