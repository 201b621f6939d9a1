package index

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/colsmol/colsmol/maxsim"
)

// DefaultRerank is how many pages the binary phases pass on to exact scoring when
// [SearchOptions.Rerank] is 0. BenchmarkSearch measures recall against exact scoring: on its 10,000-page
// synthetic index recall@10 was 0.840, 0.965 and 1.000 at 100, 200 and 400, so 400 keeps the top 10
// within 1% of exact; rescoring 400 pages of 1,030 vectors costs about 16 ms on two cores.
const DefaultRerank = 400

// DefaultCandidates is how many pages the sketch phase passes to the full-code phase when
// [SearchOptions.Candidates] is 0. In BenchmarkSearch's hard case (100,000 pages whose matching content
// is 5% of the page) recall@10 was 0.955, 0.980 and 1.000 at 1,000, 2,000 and 4,000 candidates; scoring
// 4,000 pages' full codes costs about 11 ms on two cores.
const DefaultCandidates = 4000

// SearchOptions tune [Store.Search]. The zero value is the binary search with DefaultCandidates and
// DefaultRerank.
type SearchOptions struct {
	// Exact scores every page with exact MaxSim over its float16 vectors, skipping the binary phases.
	Exact bool
	// Rerank is how many pages the binary phases pass on to exact scoring (0: DefaultRerank).
	// When the index holds no more pages than this, every page is scored exactly.
	Rerank int
	// Candidates is how many pages the sketch phase passes on to the full-code phase (0:
	// DefaultCandidates). The sketch phase runs only when the index holds more than twice this many
	// pages; below that every page's full codes are scored.
	Candidates int
	// Workers is how many goroutines score pages (0: GOMAXPROCS).
	Workers int
}

// Result is one ranked page.
type Result struct {
	DocID string  `json:"doc_id"`
	Path  string  `json:"path"`
	Page  int     `json:"page"` // 1-based
	Score float32 `json:"score"`
}

// Search returns the k pages with the highest MaxSim against the query vectors q, best first. Ties
// are broken by storage order. It is safe to call while another goroutine writes.
func (s *Store) Search(q [][]float32, k int, o SearchOptions) ([]Result, error) {
	if k < 1 {
		return nil, fmt.Errorf("search: %w: k must be at least 1, got %d", ErrBadInput, k)
	}
	query, err := maxsim.NewQuery(q)
	if err != nil {
		return nil, fmt.Errorf("search: %w: %v", ErrBadInput, err)
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	rerank := o.Rerank
	if rerank <= 0 {
		rerank = DefaultRerank
	}
	rerank = max(rerank, k)
	var results []Result
	if o.Exact {
		err = s.db.View(func(tx *bolt.Tx) error {
			items, err := allPages(tx, query.Dim)
			if err != nil {
				return err
			}
			results, err = rankExact(tx, query, items, k, workers)
			return err
		})
	} else {
		candidates := o.Candidates
		if candidates <= 0 {
			candidates = DefaultCandidates
		}
		results, err = s.searchBinary(query, k, rerank, max(candidates, rerank), workers)
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return results, nil
}

// searchBinary ranks pages in up to three phases: binary MaxSim over the in-memory page sketches picks
// candidates pages (skipped when the index holds fewer than twice as many), binary MaxSim over the
// candidates' full sign codes, read in place from the memory map, keeps the best rerank, and exact
// MaxSim over their float16 vectors ranks those.
func (s *Store) searchBinary(q *maxsim.Query, k, rerank, candidates, workers int) ([]Result, error) {
	snap, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	var coarse []maxsim.Hit
	if len(snap.pages) > 2*candidates && !snap.unsketch {
		if err := s.db.View(func(tx *bolt.Tx) error { return checkQueryDim(tx, q.Dim) }); err != nil {
			return nil, err
		}
		coarse = sketchPhase(q, snap.pages, candidates, workers) // outside the transaction: memory only
	}
	var results []Result
	err = s.db.View(func(tx *bolt.Tx) error {
		if err := checkQueryDim(tx, q.Dim); err != nil {
			return err
		}
		if len(snap.pages) <= rerank {
			items, err := allPages(tx, q.Dim)
			if err != nil {
				return err
			}
			results, err = rankExact(tx, q, items, k, workers)
			return err
		}
		var stored []storedCodes
		var err error
		if coarse != nil {
			stored, err = candidateCodes(tx, q.Dim, snap, coarse)
		} else {
			stored, err = allCodes(tx, q.Dim)
		}
		if err != nil {
			return err
		}
		vecs := tx.Bucket(bucketVectors)
		items := make([]pageItem, 0, rerank)
		for _, h := range codePhase(q, stored, rerank, workers) {
			key := stored[h.ID].key
			if v := vecs.Get(key); v != nil {
				items = append(items, pageItem{key: key, half: halfView(v), n: len(v) / 2 / q.Dim})
			}
		}
		results, err = rankExact(tx, q, items, k, workers)
		return err
	})
	return results, err
}

// sketchPhase returns the best n pages by binary MaxSim over their sketches, best first; each Hit's ID
// is the page's index in pages.
func sketchPhase(q *maxsim.Query, pages []pageSketch, n, workers int) []maxsim.Hit {
	tops := parallel(len(pages), workers, n, func(top *maxsim.TopK) func(i int) {
		h := q.HammingScorer()
		return func(i int) { top.Push(uint64(i), float32(h.ScorePacked(pages[i].sketch))) }
	})
	return tops.Sorted()
}

// storedCodes are a page's full sign codes as stored (packed little-endian words), valid during the
// transaction they were read in.
type storedCodes struct {
	key   []byte
	n     int
	words []byte
}

// parseCodes checks a stored codes value (encodeCodes) of w-word codes and returns it as storedCodes.
func parseCodes(key, v []byte, w int) (storedCodes, error) {
	n, err := storedCount(v, w)
	if err != nil {
		return storedCodes{}, fmt.Errorf("page %x: %w; the index file is damaged: index the folder again into a new --db", key, err)
	}
	return storedCodes{key: key, n: n, words: v[8:]}, nil
}

// candidateCodes looks up the stored codes of the sketch phase's hits; pages deleted since the snapshot
// are left out.
func candidateCodes(tx *bolt.Tx, d int, snap *codeSnapshot, hits []maxsim.Hit) ([]storedCodes, error) {
	b := tx.Bucket(bucketCodes)
	w := maxsim.Words(d)
	out := make([]storedCodes, 0, len(hits))
	for _, h := range hits {
		pc := snap.pages[h.ID]
		key := pageKey(pc.docID, pc.page)
		v := b.Get(key)
		if v == nil {
			continue
		}
		sc, err := parseCodes(key, v, w)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// allCodes lists every page's stored codes, straight from the memory map.
func allCodes(tx *bolt.Tx, d int) ([]storedCodes, error) {
	w := maxsim.Words(d)
	var out []storedCodes
	err := tx.Bucket(bucketCodes).ForEach(func(k, v []byte) error {
		sc, err := parseCodes(k, v, w)
		if err == nil {
			out = append(out, sc)
		}
		return err
	})
	return out, err
}

// codePhase returns the best n of pages by binary MaxSim over their full sign codes, best first; each
// Hit's ID is the page's index in pages.
func codePhase(q *maxsim.Query, pages []storedCodes, n, workers int) []maxsim.Hit {
	tops := parallel(len(pages), workers, n, func(top *maxsim.TopK) func(i int) {
		h := q.HammingScorer()
		return func(i int) { top.Push(uint64(i), float32(h.ScorePackedBytes(pages[i].n, pages[i].words))) }
	})
	return tops.Sorted()
}

// pageItem is a page's vectors as found in a read transaction.
type pageItem struct {
	key  []byte
	half []uint16 // dimension-major float16, valid during the transaction
	n    int
}

func checkQueryDim(tx *bolt.Tx, qdim int) error {
	if d := dim(tx); d != 0 && d != qdim {
		return fmt.Errorf("%w: the query has %d dimensions but the index holds %d-dimension vectors (another model?)", ErrBadInput, qdim, d)
	}
	return nil
}

// allPages lists every page's vectors, straight from the memory map.
func allPages(tx *bolt.Tx, qdim int) ([]pageItem, error) {
	if err := checkQueryDim(tx, qdim); err != nil {
		return nil, err
	}
	b := tx.Bucket(bucketVectors)
	if b == nil {
		return nil, nil
	}
	var items []pageItem
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		items = append(items, pageItem{key: k, half: halfView(v), n: len(v) / 2 / qdim})
	}
	return items, nil
}

// scoreExact scores items exactly and returns the best k, best first; a Hit's ID is its index in items.
func scoreExact(q *maxsim.Query, items []pageItem, k, workers int) []maxsim.Hit {
	top := parallel(len(items), workers, k, func(top *maxsim.TopK) func(i int) {
		sc := q.Scorer()
		return func(i int) {
			it := items[i]
			top.Push(uint64(i), sc.ScoreHalf(it.half[:it.n*q.Dim], it.n))
		}
	})
	return top.Sorted()
}

// rankExact scores items exactly and resolves the best k into results.
func rankExact(tx *bolt.Tx, q *maxsim.Query, items []pageItem, k, workers int) ([]Result, error) {
	hits := scoreExact(q, items, k, workers)
	results := make([]Result, 0, len(hits))
	for _, h := range hits {
		id, page := splitPageKey(items[h.ID].key)
		doc, err := getDoc(tx, id)
		if err != nil {
			return nil, err
		}
		results = append(results, Result{DocID: id, Path: doc.Path, Page: page + 1, Score: h.Score})
	}
	return results, nil
}

// parallel runs score(i) for i in [0, n) on workers goroutines, each with its own TopK(k) and the
// function that newScorer builds for it, and returns the merged TopK.
func parallel(n, workers, k int, newScorer func(top *maxsim.TopK) func(i int)) *maxsim.TopK {
	const chunk = 16
	workers = max(1, min(workers, (n+chunk-1)/chunk))
	tops := make([]*maxsim.TopK, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range tops {
		tops[w] = maxsim.NewTopK(k)
		wg.Add(1)
		go func(top *maxsim.TopK) {
			defer wg.Done()
			score := newScorer(top)
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= n {
					return
				}
				for i := start; i < min(start+chunk, n); i++ {
					score(i)
				}
			}
		}(tops[w])
	}
	wg.Wait()
	for _, t := range tops[1:] {
		tops[0].Merge(t)
	}
	return tops[0]
}
