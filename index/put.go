package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/colsmol/colsmol/maxsim"
)

// DocumentID returns the id a document at path gets when [Document.ID] is left empty: 16 hex digits of
// the path's SHA-256, so a file keeps its id when it is re-indexed.
func DocumentID(path string) string {
	h := sha256.Sum256([]byte("colsmol\x00" + path))
	return hex.EncodeToString(h[:8])
}

// Put stores doc and all its pages in one transaction, replacing any document with the same path (or
// the same id). An empty doc.ID is set with [DocumentID]; doc.Pages is set to len(pages); a zero
// doc.IndexedAt becomes now.
func (s *Store) Put(doc Document, pages []Page) error {
	if doc.Path == "" {
		return fmt.Errorf("put document: %w: empty path", ErrBadInput)
	}
	if doc.ID == "" {
		doc.ID = DocumentID(doc.Path)
	}
	doc.Pages = len(pages)
	if doc.IndexedAt.IsZero() {
		doc.IndexedAt = time.Now().UTC()
	}
	enc, err := encodePages(pages, s.codePool)
	if err != nil {
		return fmt.Errorf("put %s: %w", doc.Path, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var removed []string
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := checkDim(tx, enc.dim); err != nil {
			return err
		}
		ids, err := replacedIDs(tx, doc)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := deleteDoc(tx, id); err != nil {
				return err
			}
		}
		removed = ids
		return putDoc(tx, doc, pages, enc)
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", doc.Path, err)
	}
	s.updateCodes(removed, doc.ID, enc.sketches)
	return nil
}

// encodedPages are a document's pages in stored form, computed before the write transaction.
type encodedPages struct {
	dim      int
	vectors  [][]byte
	codes    [][]byte             // sign codes as stored (encodeCodes)
	sketches []maxsim.PackedCodes // the pages' sketches, for the snapshot
	rawSk    [][]byte             // the sketches as stored
	records  [][]byte
}

func encodePages(pages []Page, codePool int) (*encodedPages, error) {
	e := &encodedPages{}
	for i, p := range pages {
		if len(p.Vectors) > 0 {
			d := len(p.Vectors[0])
			if d == 0 || (e.dim != 0 && d != e.dim) {
				return nil, fmt.Errorf("%w: page %d has %d-dimension vectors, expected %d", ErrBadInput, i+1, d, e.dim)
			}
			e.dim = d
		}
		half, err := maxsim.EncodePage(p.Vectors)
		if err != nil {
			return nil, fmt.Errorf("%w: page %d: %v", ErrBadInput, i+1, err)
		}
		for _, pos := range p.ImagePositions {
			if pos < 0 || pos >= len(p.Vectors) {
				return nil, fmt.Errorf("%w: page %d: image position %d outside %d vectors", ErrBadInput, i+1, pos, len(p.Vectors))
			}
		}
		coded := p.Vectors
		if codePool > 1 {
			coded, _ = maxsim.PoolHierarchical(p.Vectors, codePool)
		}
		raw := maxsim.PageSignCodes(coded)
		w := len(raw) / max(1, len(coded))
		sk := sketchOf(raw, len(coded), w)
		e.vectors = append(e.vectors, halfBytes(half))
		e.codes = append(e.codes, encodeCodes(maxsim.PackCodes(raw, len(coded), w)))
		e.sketches = append(e.sketches, sk)
		e.rawSk = append(e.rawSk, encodeCodes(sk))
		rec, err := json.Marshal(pageRecord{Width: p.Width, Height: p.Height, Tiles: p.Tiles, Vectors: len(p.Vectors), ImagePositions: p.ImagePositions})
		if err != nil {
			return nil, err
		}
		e.records = append(e.records, rec)
	}
	return e, nil
}

// checkDim records the dimension of the first vectors stored and rejects others.
func checkDim(tx *bolt.Tx, d int) error {
	if d == 0 {
		return nil
	}
	have := dim(tx)
	if have == 0 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(d))
		return tx.Bucket(bucketMeta).Put(keyDim, b[:])
	}
	if have != d {
		return fmt.Errorf("%w: vectors have %d dimensions but this index holds %d-dimension vectors (another model?); use another --db", ErrBadInput, d, have)
	}
	return nil
}

// replacedIDs returns the ids of stored documents that doc replaces: the one at its path and the one
// with its id.
func replacedIDs(tx *bolt.Tx, doc Document) ([]string, error) {
	var ids []string
	if v := tx.Bucket(bucketPaths).Get([]byte(doc.Path)); v != nil {
		ids = append(ids, string(v))
	}
	if tx.Bucket(bucketDocs).Get([]byte(doc.ID)) != nil && (len(ids) == 0 || ids[0] != doc.ID) {
		ids = append(ids, doc.ID)
	}
	return ids, nil
}

func putDoc(tx *bolt.Tx, doc Document, pages []Page, e *encodedPages) error {
	if err := putRecords(tx, doc); err != nil {
		return err
	}
	for i, p := range pages {
		k := pageKey(doc.ID, i)
		values := [][]byte{e.records[i], p.Thumb, p.Preview, e.vectors[i], e.codes[i], e.rawSk[i]} // as pageBuckets
		for b, v := range values {
			if err := tx.Bucket(pageBuckets[b]).Put(k, v); err != nil {
				return fmt.Errorf("store page %d: %w", i+1, err)
			}
		}
	}
	return nil
}

// putRecords writes a document's record and its path and sha index entries.
func putRecords(tx *bolt.Tx, doc Document) error {
	rec, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	id := []byte(doc.ID)
	if err := tx.Bucket(bucketDocs).Put(id, rec); err != nil {
		return err
	}
	if err := tx.Bucket(bucketPaths).Put([]byte(doc.Path), id); err != nil {
		return err
	}
	return tx.Bucket(bucketSHAs).Put(shaKey(doc.SHA256, doc.ID), nil)
}

func shaKey(sha, id string) []byte { return []byte(sha + "\x00" + id) }

// deleteDoc removes a document and every key of its pages.
func deleteDoc(tx *bolt.Tx, id string) error {
	docs := tx.Bucket(bucketDocs)
	raw := docs.Get([]byte(id))
	if raw == nil {
		return fmt.Errorf("document %s: %w", id, ErrNotFound)
	}
	var doc Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("document %s: corrupt record: %w", id, err)
	}
	if err := docs.Delete([]byte(id)); err != nil {
		return err
	}
	if v := tx.Bucket(bucketPaths).Get([]byte(doc.Path)); bytes.Equal(v, []byte(id)) {
		if err := tx.Bucket(bucketPaths).Delete([]byte(doc.Path)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketSHAs).Delete(shaKey(doc.SHA256, id)); err != nil {
		return err
	}
	prefix := []byte(id)
	for _, b := range pageBuckets {
		c := tx.Bucket(b).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+4; k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	return nil
}

// halfBytes returns the little-endian bytes of half-precision values.
func halfBytes(h []uint16) []byte {
	out := make([]byte, 2*len(h))
	for i, v := range h {
		binary.LittleEndian.PutUint16(out[2*i:], v)
	}
	return out
}

// encodeCodes returns the stored form of a page's packed sign codes: the number of vectors, then the
// packed words (maxsim.PackCodes layout), all uint64 little-endian. Storing the packed layout makes
// scoring them in place from the memory map possible.
func encodeCodes(p maxsim.PackedCodes) []byte {
	out := make([]byte, 8+8*len(p.Words))
	binary.LittleEndian.PutUint64(out, uint64(p.N))
	for i, v := range p.Words {
		binary.LittleEndian.PutUint64(out[8+8*i:], v)
	}
	return out
}

// decodeCodes copies stored sign codes (encodeCodes) of w-word codes out of b, checking their size.
func decodeCodes(b []byte, w int) (maxsim.PackedCodes, error) {
	n, err := storedCount(b, w)
	if err != nil {
		return maxsim.PackedCodes{}, err
	}
	return maxsim.PackedCodes{N: n, Words: codeWords(b[8:])}, nil
}

// storedCount checks the size of stored sign codes (encodeCodes) of w-word codes and returns how many
// vectors they code.
func storedCount(b []byte, w int) (int, error) {
	if len(b) < 8 {
		return 0, fmt.Errorf("%d bytes of sign codes", len(b))
	}
	n := int(binary.LittleEndian.Uint64(b))
	if n < 0 || n > len(b) || len(b)-8 != maxsim.PackedBytes(n, w) {
		return 0, fmt.Errorf("%d bytes of sign codes for %d vectors of %d words", len(b), n, w)
	}
	return n, nil
}

// littleEndian reports whether the machine stores integers little-endian, so that stored bytes can be
// used in place.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// halfView returns the half values in b, without copying where the machine is little-endian. The
// result is valid only as long as b (for mmap'd values: the read transaction).
func halfView(b []byte) []uint16 {
	if len(b) < 2 {
		return nil
	}
	if littleEndian {
		return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
	}
	out := make([]uint16, len(b)/2)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return out
}

// codeWords copies little-endian uint64 words out of stored bytes.
func codeWords(b []byte) []uint64 {
	out := make([]uint64, len(b)/8)
	if littleEndian && len(out) > 0 {
		copy(out, unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), len(out)))
		return out
	}
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out
}
