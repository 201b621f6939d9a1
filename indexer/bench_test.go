package indexer

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/colsmol/colsmol/index"
)

// BenchmarkRun indexes eight A4 pages (four 2-page PDFs) into a fresh index with the tiny test model, at the
// model's size and within tile budgets of 9 and 5, and reports pages/s. With the tiny model the figures
// measure the pipeline around the model (rendering, preprocessing, thumbnails, storing), not inference.
func BenchmarkRun(b *testing.B) {
	em := tinyEmbedder(b)
	r := renderer(b)
	dir := b.TempDir()
	for i := 0; i < 4; i++ {
		writeFile(b, filepath.Join(dir, "docs", fmt.Sprintf("d%d.pdf", i)), samplePDF(fmt.Sprintf("Doc %d", i), 2))
	}
	for _, maxTiles := range []int{0, 9, 5} {
		b.Run(fmt.Sprintf("max-tiles=%d", maxTiles), func(b *testing.B) {
			pages, start := 0, time.Now()
			for i := 0; b.Loop(); i++ {
				st, err := index.Open(filepath.Join(dir, fmt.Sprintf("bench-%d-%d.db", maxTiles, i)), index.Options{NoSync: true})
				if err != nil {
					b.Fatal(err)
				}
				s, err := Run(context.Background(), st, em, r, []string{filepath.Join(dir, "docs")}, Options{MaxTiles: maxTiles})
				st.Close()
				if err != nil {
					b.Fatal(err)
				}
				pages += s.Embedded
			}
			b.ReportMetric(float64(pages)/time.Since(start).Seconds(), "pages/s")
		})
	}
}
