package vidore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colsmol/colsmol/internal/hub"
	"github.com/colsmol/colsmol/internal/hub/hubtest"
)

func TestParseSources(t *testing.T) {
	dir := t.TempDir()
	got, err := ParseSources([]string{"vidore-v1", dir, "org/data@v2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 {
		t.Fatalf("%d sources, want 10 + 2", len(got))
	}
	if got[0] != (Source{Name: "vidore/arxivqa_test_subsampled", Repo: "vidore/arxivqa_test_subsampled"}) ||
		got[9].Name != "vidore/syntheticDocQA_healthcare_industry_test" {
		t.Errorf("collection expanded to %v ... %v", got[0], got[9])
	}
	if got[10] != (Source{Name: dir, Dir: dir}) {
		t.Errorf("folder source %+v", got[10])
	}
	if got[11] != (Source{Name: "org/data@v2", Repo: "org/data", Revision: "v2"}) {
		t.Errorf("hub source %+v", got[11])
	}
	for _, bad := range [][]string{
		{"vidore-v1", "vidore/docvqa_test_subsampled"}, // twice
		{dir, dir + "/"},
		{"not a dataset"},
		{"./missing/folder"},
		{},
	} {
		if _, err := ParseSources(bad); err == nil {
			t.Errorf("ParseSources(%q) accepted", bad)
		}
	}
	f := filepath.Join(dir, "file.parquet")
	os.WriteFile(f, []byte("x"), 0o644)
	if _, err := ParseSources([]string{f}); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("a file was accepted as a dataset: %v", err)
	}
}

func TestSource_FetchHubDatasetThenOffline(t *testing.T) {
	src := t.TempDir()
	writeQA(t, src, []*string{ptr("q1"), nil, ptr("q2")}, []string{"p1.png", "p2.png", "p3.png"}, 2)
	files := map[string][]byte{"README.md": []byte("---\nconfigs: []\n---\n"), "other/train-00000-of-00001.parquet": []byte("not needed")}
	for _, name := range []string{"test-00000-of-00002.parquet", "test-00001-of-00002.parquet"} {
		b, err := os.ReadFile(filepath.Join(src, "data", name))
		if err != nil {
			t.Fatal(err)
		}
		files["data/"+name] = b
	}
	h := hubtest.New(&hubtest.Repo{Type: "dataset", ID: "vidore/tiny_qa", Commit: strings.Repeat("c", 40), Files: files})
	defer h.Close()
	o := hub.Options{Endpoint: h.URL(), CacheDir: t.TempDir(), Home: t.TempDir(), Retries: -1}

	sources, err := ParseSources([]string{"vidore/tiny_qa"})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := sources[0].Fetch(context.Background(), "", o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dir, "datasets--vidore--tiny_qa") {
		t.Errorf("snapshot %s is not in the dataset cache layout", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); err == nil {
		t.Error("files outside the test split were downloaded")
	}
	ds, err := Load(dir, sources[0].Name, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "vidore/tiny_qa" || len(ds.Queries) != 2 || len(ds.Passages) != 3 {
		t.Errorf("loaded %s with %d queries and %d passages", ds.Name, len(ds.Queries), len(ds.Passages))
	}

	h.Close()
	o.Offline = true
	again, err := sources[0].Fetch(context.Background(), "", o)
	if err != nil || again != dir {
		t.Errorf("offline fetch: %s, %v; want %s from the cache", again, err, dir)
	}
	missing := Source{Name: "vidore/other", Repo: "vidore/other"}
	if _, err := missing.Fetch(context.Background(), "", o); err == nil || !hub.IsNotCached(err) {
		t.Errorf("offline fetch of an uncached dataset: %v, want a not-cached error", err)
	}
}
