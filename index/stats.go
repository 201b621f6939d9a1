package index

import (
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// Stats describes an index file and what searching it costs in memory.
type Stats struct {
	Path               string  `json:"path"`
	FileBytes          int64   `json:"file_bytes"`
	Documents          int     `json:"documents"`
	Pages              int     `json:"pages"`
	Vectors            int64   `json:"vectors"`
	Dim                int     `json:"dim"`
	VectorBytes        int64   `json:"vector_bytes"`   // float16 vectors stored
	CodeBytes          int64   `json:"code_bytes"`     // sign codes stored
	SketchBytes        int64   `json:"sketch_bytes"`   // page sketches stored (the coarse phase's codes)
	ImageBytes         int64   `json:"image_bytes"`    // thumbnails and previews stored
	BytesPerPage       float64 `json:"bytes_per_page"` // whole file divided by pages
	VectorBytesPerPage float64 `json:"vector_bytes_per_page"`
	// ResidentBytes estimates the memory a searching process holds for this index: the sketch of every
	// page plus its bookkeeping. The full sign codes of the coarse phase's candidates and the float16
	// vectors of the rerank are read through the page cache (the memory map), which the kernel can
	// evict; a full exact scan (--exact) touches VectorBytes.
	ResidentBytes int64 `json:"resident_bytes"`
}

// Stats returns figures about the index.
func (s *Store) Stats() (*Stats, error) {
	st := &Stats{Path: s.path}
	if fi, err := os.Stat(s.path); err == nil {
		st.FileBytes = fi.Size()
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		st.Dim = dim(tx)
		sum := func(bucket []byte, f func(k, v []byte)) error {
			b := tx.Bucket(bucket)
			if b == nil {
				return nil
			}
			return b.ForEach(func(k, v []byte) error { f(k, v); return nil })
		}
		if err := sum(bucketDocs, func(k, v []byte) { st.Documents++ }); err != nil {
			return err
		}
		err := sum(bucketVectors, func(k, v []byte) {
			st.Pages++
			st.VectorBytes += int64(len(v))
			if st.Dim > 0 {
				st.Vectors += int64(len(v) / 2 / st.Dim)
			}
		})
		if err != nil {
			return err
		}
		noSketches := tx.Bucket(bucketSketches) == nil // a version 2 file opened read-only
		err = sum(bucketCodes, func(k, v []byte) {
			st.CodeBytes += int64(len(v))
			if noSketches {
				st.ResidentBytes += pageOverhead // searched without sketches: only the page list
			}
		})
		if err != nil {
			return err
		}
		err = sum(bucketSketches, func(k, v []byte) {
			st.SketchBytes += int64(len(v))
			st.ResidentBytes += int64(max(len(v)-8, 0)) + pageOverhead // the packed words, as stored
		})
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketThumbs, bucketPreviews} {
			if err := sum(b, func(k, v []byte) { st.ImageBytes += int64(len(v)) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index stats: %w", err)
	}
	if st.Pages > 0 {
		st.BytesPerPage = float64(st.FileBytes) / float64(st.Pages)
		st.VectorBytesPerPage = float64(st.VectorBytes) / float64(st.Pages)
	}
	return st, nil
}
