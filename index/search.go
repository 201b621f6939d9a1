package index

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/colsmol/colsmol/maxsim"
)

// DefaultRerank is how many first-phase candidates a search rescores exactly when
// [SearchOptions.Rerank] is 0. BenchmarkSearch measures recall against exact scoring at 50, 100, 200 and
// 400: on its 10,000-page synthetic index recall@10 was 0.855, 0.965 and 0.995 at 100, 200 and 400, so
// 400 keeps the top 10 within 1% of exact; rescoring 400 pages of 1,030 vectors costs about 13 ms on
// two cores.
const DefaultRerank = 400

// SearchOptions tune [Store.Search]. The zero value is the two-phase search with DefaultRerank.
type SearchOptions struct {
	// Exact scores every page with exact MaxSim over its float16 vectors, skipping the binary phase.
	Exact bool
	// Rerank is how many pages the binary first phase passes on to exact scoring (0: DefaultRerank).
	// When the index holds no more pages than this, every page is scored exactly.
	Rerank int
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
		results, err = s.searchTwoPhase(query, k, rerank, workers)
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return results, nil
}

// searchTwoPhase ranks all pages by binary MaxSim over the in-memory sign codes, then rescores the
// best rerank of them exactly.
func (s *Store) searchTwoPhase(q *maxsim.Query, k, rerank, workers int) ([]Result, error) {
	snap, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	var cands []maxsim.Hit
	if len(snap.pages) > rerank {
		cands = firstPhase(q, snap.pages, rerank, workers) // outside the transaction: memory only
	}
	var results []Result
	err = s.db.View(func(tx *bolt.Tx) error {
		if err := checkQueryDim(tx, q.Dim); err != nil {
			return err
		}
		if cands == nil {
			items, err := allPages(tx, q.Dim)
			if err != nil {
				return err
			}
			results, err = rankExact(tx, q, items, k, workers)
			return err
		}
		vecs := tx.Bucket(bucketVectors)
		items := make([]pageItem, 0, len(cands))
		for _, h := range cands {
			pc := snap.pages[h.ID]
			key := pageKey(pc.docID, pc.page)
			if v := vecs.Get(key); v != nil { // nil: deleted since the snapshot
				items = append(items, pageItem{key: key, half: halfView(v), n: len(v) / 2 / q.Dim})
			}
		}
		results, err = rankExact(tx, q, items, k, workers)
		return err
	})
	return results, err
}

// firstPhase returns the best n pages by binary MaxSim, best first; each Hit's ID is the page's index
// in pages.
func firstPhase(q *maxsim.Query, pages []pageCodes, n, workers int) []maxsim.Hit {
	tops := parallel(len(pages), workers, n, func(top *maxsim.TopK) func(i int) {
		h := q.HammingScorer()
		return func(i int) { top.Push(uint64(i), float32(h.ScorePacked(pages[i].codes))) }
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
