package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/colsmol/colsmol/maxsim"
)

// ByPath returns the document stored for path, or nil when there is none.
func (s *Store) ByPath(path string) (*Document, error) {
	var doc *Document
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPaths)
		if b == nil {
			return nil
		}
		id := b.Get([]byte(path))
		if id == nil {
			return nil
		}
		d, err := getDoc(tx, string(id))
		doc = d
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", path, err)
	}
	return doc, nil
}

// BySHA returns a document whose content has the given SHA-256 (hex), or nil when there is none. When
// several paths hold the same content, it returns the one with the lowest id.
func (s *Store) BySHA(sha string) (*Document, error) {
	var doc *Document
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSHAs)
		if b == nil || sha == "" {
			return nil
		}
		prefix := []byte(sha + "\x00")
		k, _ := b.Cursor().Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		d, err := getDoc(tx, string(k[len(prefix):]))
		doc = d
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("look up sha256 %s: %w", sha, err)
	}
	return doc, nil
}

// Document returns the document with the given id; the error wraps [ErrNotFound] when there is none.
func (s *Store) Document(id string) (*Document, error) {
	var doc *Document
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketDocs) == nil {
			return fmt.Errorf("document %s: %w", id, ErrNotFound)
		}
		d, err := getDoc(tx, id)
		doc = d
		return err
	})
	return doc, err
}

func getDoc(tx *bolt.Tx, id string) (*Document, error) {
	raw := tx.Bucket(bucketDocs).Get([]byte(id))
	if raw == nil {
		return nil, fmt.Errorf("document %s: %w", id, ErrNotFound)
	}
	var d Document
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("document %s: corrupt record: %w", id, err)
	}
	return &d, nil
}

// Documents returns every stored document, sorted by path.
func (s *Store) Documents() ([]Document, error) {
	docs := []Document{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDocs)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var d Document
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("document %s: corrupt record: %w", k, err)
			}
			docs = append(docs, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].Path < docs[j].Path })
	return docs, nil
}

// Delete removes the document with the given id and all its pages in one transaction. The error wraps
// [ErrNotFound] when there is no such document.
func (s *Store) Delete(id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.db.Update(func(tx *bolt.Tx) error { return deleteDoc(tx, id) }); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	s.updateCodes([]string{id}, "", nil)
	return nil
}

// pageValue copies the value of a page key from bucket, checking that the page exists.
func (s *Store) pageValue(bucket []byte, id string, page int) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		var v []byte
		if b != nil && page >= 1 {
			v = b.Get(pageKey(id, page-1))
		}
		if v == nil {
			return fmt.Errorf("document %s page %d: %w", id, page, ErrNotFound)
		}
		out = append([]byte{}, v...)
		return nil
	})
	return out, err
}

// PageImage returns the JPEG preview of a page (1-based), or its thumbnail when thumb is set. The error
// wraps [ErrNotFound] for an unknown document or page; a page stored without that image gives an empty
// slice.
func (s *Store) PageImage(id string, page int, thumb bool) ([]byte, error) {
	b := bucketPreviews
	if thumb {
		b = bucketThumbs
	}
	return s.pageValue(b, id, page)
}

// PageInfo is what the index knows about a stored page besides its images and vectors.
type PageInfo struct {
	Width, Height  int
	Tiles          Tiles
	Vectors        int
	ImagePositions []int
}

// PageInfo returns a page's (1-based) size, tile layout and vector count.
func (s *Store) PageInfo(id string, page int) (*PageInfo, error) {
	raw, err := s.pageValue(bucketPages, id, page)
	if err != nil {
		return nil, err
	}
	var r pageRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("document %s page %d: corrupt record: %w", id, page, err)
	}
	return &PageInfo{Width: r.Width, Height: r.Height, Tiles: r.Tiles, Vectors: r.Vectors, ImagePositions: r.ImagePositions}, nil
}

// PageLayout returns the tile grid of a page (0, 0 when it was not split).
func (s *Store) PageLayout(id string, page int) (rows, cols int, err error) {
	info, err := s.PageInfo(id, page)
	if err != nil {
		return 0, 0, err
	}
	return info.Tiles.Rows, info.Tiles.Cols, nil
}

// PageVectors returns a page's (1-based) vectors, widened from float16, and the indexes of its image
// tokens among them.
func (s *Store) PageVectors(id string, page int) ([][]float32, []int, error) {
	info, err := s.PageInfo(id, page)
	if err != nil {
		return nil, nil, err
	}
	raw, err := s.pageValue(bucketVectors, id, page)
	if err != nil {
		return nil, nil, err
	}
	half := halfView(raw)
	if info.Vectors == 0 || len(half)%info.Vectors != 0 {
		return nil, info.ImagePositions, nil
	}
	return maxsim.DecodePage(half, info.Vectors), info.ImagePositions, nil
}
