package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the version of the key layout this package reads and writes. Version 3 added the
// sketches bucket; a version 2 file is upgraded when opened for writing (its sketches computed from
// its codes, about 1.3 ms per page) and searched without the sketch phase when opened read-only.
const SchemaVersion = 3

// schemaBeforeSketches is the last version without the sketches bucket.
const schemaBeforeSketches = 2

// DefaultTimeout is how long [Open] waits for another process to release the file.
const DefaultTimeout = 3 * time.Second

var (
	bucketMeta     = []byte("meta")
	bucketDocs     = []byte("docs")
	bucketPaths    = []byte("paths")
	bucketSHAs     = []byte("shas")
	bucketPages    = []byte("pages")
	bucketThumbs   = []byte("thumbs")
	bucketPreviews = []byte("previews")
	bucketVectors  = []byte("vectors")
	bucketCodes    = []byte("codes")
	bucketSketches = []byte("sketches")
	allBuckets     = [][]byte{bucketMeta, bucketDocs, bucketPaths, bucketSHAs, bucketPages, bucketThumbs, bucketPreviews, bucketVectors, bucketCodes, bucketSketches}

	keySchema = []byte("schema")
	keyDim    = []byte("dim")
)

// Options configure [Open]. The zero value opens for reading and writing and waits [DefaultTimeout]
// for a lock held by another process.
type Options struct {
	// ReadOnly opens the file with a shared lock; writes fail. Several read-only openers may coexist,
	// but not with a writer.
	ReadOnly bool
	// Timeout is how long to wait for another process's lock; 0 means DefaultTimeout, < 0 fails at once.
	Timeout time.Duration
	// NoSync skips fsync after each commit: faster bulk loads (benchmarks), but a power failure may
	// lose or corrupt recent writes. A process crash alone stays safe.
	NoSync bool
	// CodePool, when > 1, makes Put compute each page's sign codes and sketch (the binary phases) from
	// its vectors pooled by this factor with maxsim.PoolHierarchical, while the float16 vectors used for
	// exact scoring stay whole: the codes take about 1/CodePool of the space and full-code phase time,
	// at some loss of candidate recall (measured by BenchmarkSearch, "pooling-quality"). Pooling costs
	// about 35 ms per 1,030-vector page at indexing time.
	CodePool int
}

// Store is an open index file. Its methods are safe for concurrent use: searches run while another
// goroutine writes.
type Store struct {
	db       *bolt.DB
	path     string
	codePool int

	writeMu sync.Mutex                   // serialises writers and updates of codes
	codes   atomic.Pointer[codeSnapshot] // sign codes of all pages, loaded on first use
}

// Open opens (creating if needed) the index file at path.
func Open(path string, o Options) (*Store, error) {
	timeout := o.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		timeout = time.Millisecond
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: timeout, ReadOnly: o.ReadOnly, NoSync: o.NoSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open index %s: %w (waited %s); stop the other colsmol process (index or serve) or use another --db", path, ErrLocked, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	s := &Store{db: db, path: path, codePool: o.CodePool}
	if err := s.init(o.ReadOnly); err != nil {
		db.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	return s, nil
}

// init creates the buckets and checks the schema version.
func (s *Store) init(readOnly bool) error {
	check := func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil {
			if readOnly {
				return nil // an empty file: nothing indexed yet
			}
			return errors.New("meta bucket missing")
		}
		v := m.Get(keySchema)
		if v == nil {
			return nil
		}
		switch got, _ := strconv.Atoi(string(v)); got {
		case SchemaVersion:
		case schemaBeforeSketches:
			if !readOnly {
				return addSketches(tx)
			}
		default:
			return fmt.Errorf("%w %q (this colsmol reads %d and %d); index again into a new --db file", ErrSchema, v, schemaBeforeSketches, SchemaVersion)
		}
		return nil
	}
	if readOnly {
		return s.db.View(check)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		if err := check(tx); err != nil {
			return err
		}
		m := tx.Bucket(bucketMeta)
		if m.Get(keySchema) == nil {
			return m.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
		}
		return nil
	})
}

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// dim returns the vector dimension recorded in tx, or 0 before the first page with vectors.
func dim(tx *bolt.Tx) int {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return 0
	}
	v := m.Get(keyDim)
	if len(v) != 4 {
		return 0
	}
	return int(binary.BigEndian.Uint32(v))
}

// pageKey is a document id followed by the 0-based page index, big-endian, so a document's pages are
// adjacent and in order.
func pageKey(id string, page int) []byte {
	k := make([]byte, len(id)+4)
	copy(k, id)
	binary.BigEndian.PutUint32(k[len(id):], uint32(page))
	return k
}

// splitPageKey is the inverse of pageKey.
func splitPageKey(k []byte) (id string, page int) {
	if len(k) < 4 {
		return "", 0
	}
	return string(k[:len(k)-4]), int(binary.BigEndian.Uint32(k[len(k)-4:]))
}
