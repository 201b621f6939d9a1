package vidore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Cache keeps page and query embeddings on disk, keyed by the model's identity and the sha256 of the image
// file (or of the query text), so that a rerun, an interrupted run or another dataset sharing pages does not
// embed them again. It is a bbolt file; one process at a time may hold it.
type Cache struct {
	db *bolt.DB
}

var (
	bucketPages   = []byte("pages")
	bucketQueries = []byte("queries")
)

// cacheFormat is the first byte of every stored embedding.
const cacheFormat = 1

// OpenCache opens (or creates) the embedding cache file at path.
func OpenCache(path string) (*Cache, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("embedding cache %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("embedding cache %s is in use by another colsmol process; wait for it or pass another --cache", path)
	}
	if err != nil {
		return nil, fmt.Errorf("embedding cache %s: %w", path, err)
	}
	return &Cache{db: db}, nil
}

// Close closes the cache file.
func (c *Cache) Close() error { return c.db.Close() }

// PageKey is the cache key of a page image: the sha256 of its encoded file.
func PageKey(image []byte) [32]byte { return sha256.Sum256(image) }

// QueryKey is the cache key of a query text.
func QueryKey(text string) [32]byte { return sha256.Sum256([]byte(text)) }

// Get returns the cached embeddings of keys for the model (nil where absent), from the pages or queries
// bucket.
func (c *Cache) get(bucket []byte, model string, keys [][32]byte) ([][][]float32, error) {
	out := make([][][]float32, len(keys))
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b != nil {
			b = b.Bucket([]byte(model))
		}
		if b == nil {
			return nil
		}
		for i, k := range keys {
			if v := b.Get(k[:]); v != nil {
				vecs, err := decodeVectors(v)
				if err != nil {
					return fmt.Errorf("cached embedding %s: %w", hex.EncodeToString(k[:8]), err)
				}
				out[i] = vecs
			}
		}
		return nil
	})
	return out, err
}

// put stores embeddings under keys for the model in one transaction.
func (c *Cache) put(bucket []byte, model string, keys [][32]byte, vecs [][][]float32) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		b, err := root.CreateBucketIfNotExists([]byte(model))
		if err != nil {
			return err
		}
		for i, k := range keys {
			if err := b.Put(k[:], encodeVectors(vecs[i])); err != nil {
				return err
			}
		}
		return nil
	})
}

// Pages returns the cached page embeddings of keys (nil where absent).
func (c *Cache) Pages(model string, keys [][32]byte) ([][][]float32, error) {
	return c.get(bucketPages, model, keys)
}

// PutPages stores page embeddings.
func (c *Cache) PutPages(model string, keys [][32]byte, vecs [][][]float32) error {
	return c.put(bucketPages, model, keys, vecs)
}

// Queries returns the cached query embeddings of keys (nil where absent).
func (c *Cache) Queries(model string, keys [][32]byte) ([][][]float32, error) {
	return c.get(bucketQueries, model, keys)
}

// PutQueries stores query embeddings.
func (c *Cache) PutQueries(model string, keys [][32]byte, vecs [][][]float32) error {
	return c.put(bucketQueries, model, keys, vecs)
}

// encodeVectors stores n vectors of one dimension: format byte, uint32 n, uint32 dim, then the float32
// values row after row, little-endian.
func encodeVectors(vecs [][]float32) []byte {
	dim := 0
	if len(vecs) > 0 {
		dim = len(vecs[0])
	}
	b := make([]byte, 9, 9+4*len(vecs)*dim)
	b[0] = cacheFormat
	binary.LittleEndian.PutUint32(b[1:], uint32(len(vecs)))
	binary.LittleEndian.PutUint32(b[5:], uint32(dim))
	for _, v := range vecs {
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	return b
}

func decodeVectors(b []byte) ([][]float32, error) {
	if len(b) < 9 || b[0] != cacheFormat {
		return nil, errors.New("unknown format")
	}
	n := int(binary.LittleEndian.Uint32(b[1:]))
	dim := int(binary.LittleEndian.Uint32(b[5:]))
	if len(b) != 9+4*n*dim {
		return nil, fmt.Errorf("%d bytes for %d vectors of %d values", len(b), n, dim)
	}
	flat := make([]float32, n*dim)
	for i := range flat {
		flat[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[9+4*i:]))
	}
	out := make([][]float32, n)
	for i := range out {
		out[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out, nil
}

// ModelIdentity names a model folder's embeddings in the cache: a sha256 over every file's relative path and
// size, the content of files up to 4 MiB (configs, tokenizer) and the first and last MiB of larger ones
// (ONNX graphs and weights), plus extra strings for options that change the embeddings. Copying the folder
// keeps its identity; changing a graph or a config changes it.
func ModelIdentity(dir string, extra ...string) (string, error) {
	type entry struct {
		rel  string
		size int64
	}
	var files []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(p) // follows the symlinks of Hugging Face snapshots
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, entry{filepath.ToSlash(rel), st.Size()})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("model identity of %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.rel, f.size)
		if err := hashSample(h, filepath.Join(dir, f.rel), f.size); err != nil {
			return "", fmt.Errorf("model identity of %s: %w", dir, err)
		}
	}
	for _, e := range extra {
		fmt.Fprintf(h, "option\x00%s\x00", e)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashSample(w io.Writer, path string, size int64) error {
	const whole, edge = 4 << 20, 1 << 20
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if size <= whole {
		_, err = io.Copy(w, f)
		return err
	}
	if _, err := io.CopyN(w, f, edge); err != nil {
		return err
	}
	_, err = io.Copy(w, io.NewSectionReader(f, size-edge, edge))
	return err
}
