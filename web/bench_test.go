package web_test

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/colsmol/colsmol/index"
)

// BenchmarkServeSearch sends concurrent GET /api/v1/search requests over loopback to a server whose index
// holds 1,000 synthetic pages of 1,092 vectors each (4×4 tiles plus the global one, as a letter page at
// the model's full size). Queries are embedded by the tiny retriever (embed=tiny) or taken from vectors it
// computed beforehand (embed=cached: the server and MaxSim alone). It reports requests per second and the
// median and 99th-percentile latency for each number of concurrent clients.
func BenchmarkServeSearch(b *testing.B) {
	em := tinyRetriever(b)
	st, db := openStore(b)
	const docs, pagesPerDoc = 100, 10
	rng := rand.New(rand.NewPCG(7, 8))
	t0 := time.Now()
	for d := range docs {
		pages := make([]index.Page, pagesPerDoc)
		for p := range pages {
			pages[p] = makeBenchPage(rng)
		}
		putDoc(b, st, fmt.Sprintf("/bench/doc-%03d.pdf", d), pages...)
	}
	b.Logf("wrote %d pages in %.1fs", docs*pagesPerDoc, time.Since(t0).Seconds())
	queries := []string{"quarterly revenue table", "wiring diagram of the pump", "signature on the last page",
		"a photo of a cat", "organisation chart", "map of the region", "total amount due", "safety instructions"}
	cached := cachedQueries{}
	for _, q := range queries {
		v, err := em.EmbedQuery(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		cached[q] = v
	}
	_, live := startServer(b, (&library{st: st, db: db}).options(em))
	_, fromCache := startServer(b, (&library{st: st, db: db}).options(cached))

	for _, c := range []struct {
		embed, base string
		clients     int
	}{{"tiny", live, 1}, {"tiny", live, 4}, {"tiny", live, 16}, {"cached", fromCache, 1}, {"cached", fromCache, 4}} {
		base, clients := c.base, c.clients
		b.Run("embed="+c.embed+"/clients="+strconv.Itoa(clients), func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			var next atomic.Int64
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			var failed atomic.Int64
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						q := queries[i%len(queries)]
						t := time.Now()
						res, err := client.Get(base + "/api/v1/search?k=10&q=" + url.QueryEscape(q))
						if err != nil {
							failed.Add(1)
							continue
						}
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != 200 {
							failed.Add(1)
						}
						lat[i] = time.Since(t)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d requests failed", n, b.N)
			}
			slices.Sort(lat)
			p := func(q float64) float64 { return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / 1e6 }
			rps := float64(b.N) / elapsed.Seconds()
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(p(0.50), "p50-ms")
			b.ReportMetric(p(0.99), "p99-ms")
			b.ReportMetric(0, "ns/op")
			b.Logf("clients=%d: %d requests, %.1f req/s, p50 %.1f ms, p99 %.1f ms", clients, b.N, rps, p(0.50), p(0.99))
		})
	}
}

// cachedQueries serves query vectors computed beforehand by the tiny retriever, so that a run measures the
// server and the search without the query's model inference (as a server with a query cache would).
type cachedQueries map[string][][]float32

func (c cachedQueries) EmbedQuery(_ context.Context, q string) ([][]float32, error) {
	if v, ok := c[q]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("query %q was not embedded beforehand", q)
}

// makeBenchPage builds a page of random vectors (not normalised: the search cost does not depend on it) with
// the image-token layout of a 4×4 split, and tiny images.
func makeBenchPage(rng *rand.Rand) index.Page {
	const tiles, text = 17, 4
	n := tiles*64 + text
	flat := make([]float32, n*dim)
	for i := range flat {
		flat[i] = float32(rng.Float64()*2-1) * 0.09
	}
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = flat[i*dim : (i+1)*dim]
	}
	pos := make([]int, tiles*64)
	for i := range pos {
		pos[i] = text + i
	}
	return index.Page{Width: 1224, Height: 1584, Tiles: index.Tiles{Rows: 4, Cols: 4}, Thumb: benchJPEG, Preview: benchJPEG, Vectors: vecs, ImagePositions: pos}
}

var benchJPEG = drawPage(24, 32, color.RGBA{})
