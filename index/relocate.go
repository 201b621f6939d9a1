package index

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/colsmol/colsmol/maxsim"
)

// Relocate gives the stored document id a new record doc (typically a new path, size and modification
// time for a file that moved or was touched) and moves its pages with it, in one transaction and without
// re-encoding anything. doc.Pages is kept from the stored document, and so are an empty doc.SHA256 and a
// zero doc.IndexedAt; an empty doc.ID becomes [DocumentID](doc.Path). A different document already at
// doc.Path is replaced. The error wraps [ErrNotFound] when id is not stored.
func (s *Store) Relocate(id string, doc Document) error {
	if doc.Path == "" {
		return fmt.Errorf("relocate %s: %w: empty path", id, ErrBadInput)
	}
	if doc.ID == "" {
		doc.ID = DocumentID(doc.Path)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var removed []string
	var moved []maxsim.PackedCodes
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, err := getDoc(tx, id)
		if err != nil {
			return err
		}
		doc.Pages = old.Pages
		if doc.SHA256 == "" {
			doc.SHA256 = old.SHA256
		}
		if doc.IndexedAt.IsZero() {
			doc.IndexedAt = old.IndexedAt
		}
		others, err := replacedIDs(tx, doc)
		if err != nil {
			return err
		}
		for _, o := range others {
			if o == id {
				continue
			}
			if err := deleteDoc(tx, o); err != nil {
				return err
			}
			removed = append(removed, o)
		}
		pages, err := copyPages(tx, id, old.Pages)
		if err != nil {
			return err
		}
		if err := deleteDoc(tx, id); err != nil {
			return err
		}
		removed = append(removed, id)
		if err := putRecords(tx, doc); err != nil {
			return err
		}
		d := dim(tx)
		for p, vals := range pages {
			k := pageKey(doc.ID, p)
			for b, v := range vals {
				if err := tx.Bucket(pageBuckets[b]).Put(k, v); err != nil {
					return err
				}
			}
			if d > 0 {
				sketch, err := decodeCodes(vals[len(vals)-1], maxsim.Words(d))
				if err != nil {
					return fmt.Errorf("sketch of page %d: %w", p+1, err)
				}
				moved = append(moved, sketch)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("relocate %s to %s: %w", id, doc.Path, err)
	}
	s.updateCodes(removed, doc.ID, moved)
	return nil
}

// pageBuckets are the buckets keyed by page, sketches last.
var pageBuckets = [][]byte{bucketPages, bucketThumbs, bucketPreviews, bucketVectors, bucketCodes, bucketSketches}

// copyPages copies every page value of document id out of the transaction's memory.
func copyPages(tx *bolt.Tx, id string, pages int) ([][][]byte, error) {
	out := make([][][]byte, pages)
	for p := range out {
		k := pageKey(id, p)
		for _, b := range pageBuckets {
			v := tx.Bucket(b).Get(k)
			if v == nil {
				return nil, fmt.Errorf("document %s page %d has no %s entry", id, p+1, b)
			}
			out[p] = append(out[p], append([]byte{}, v...))
		}
	}
	return out, nil
}
