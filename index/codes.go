package index

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/colsmol/colsmol/maxsim"
)

// codeSnapshot is an immutable copy of every page's sign codes, for the binary first phase. Writers
// replace it as a whole (copy on write) after each commit, so searches never lock.
type codeSnapshot struct {
	pages []pageCodes
	bytes int // memory held by the codes
}

// pageCodes are the sign codes of one page.
type pageCodes struct {
	docID string
	page  int // 0-based
	codes maxsim.PackedCodes
}

// snapshot returns the codes of all pages, loading them on first use.
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
		b := tx.Bucket(bucketCodes)
		if b == nil || d == 0 {
			return nil
		}
		w := maxsim.Words(d)
		return b.ForEach(func(k, v []byte) error {
			codes, err := decodeCodes(v, w)
			if err != nil {
				return fmt.Errorf("codes of page %x: %w", k, err)
			}
			id, page := splitPageKey(k)
			pc := pageCodes{docID: id, page: page, codes: codes}
			snap.pages = append(snap.pages, pc)
			snap.bytes += pc.codes.Bytes()
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load sign codes: %w", err)
	}
	s.codes.Store(snap)
	return snap, nil
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
	next := &codeSnapshot{pages: make([]pageCodes, 0, len(old.pages)+len(added))}
	for _, pc := range old.pages {
		if !gone[pc.docID] {
			next.pages = append(next.pages, pc)
			next.bytes += pc.codes.Bytes()
		}
	}
	for i, c := range added {
		next.pages = append(next.pages, pageCodes{docID: addedID, page: i, codes: c})
		next.bytes += c.Bytes()
	}
	s.codes.Store(next)
}
