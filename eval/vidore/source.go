package vidore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/colsmol/colsmol/internal/hub"
)

// Collections are dataset lists that can be named as one --dataset value.
var Collections = map[string][]string{
	// vidore-v1 is the ViDoRe benchmark collection (vidore/vidore-benchmark-667173f98e70a1c0fa4db00d), QA
	// layout, in the collection's order.
	"vidore-v1": {
		"vidore/arxivqa_test_subsampled",
		"vidore/docvqa_test_subsampled",
		"vidore/infovqa_test_subsampled",
		"vidore/tabfquad_test_subsampled",
		"vidore/tatdqa_test",
		"vidore/shiftproject_test",
		"vidore/syntheticDocQA_artificial_intelligence_test",
		"vidore/syntheticDocQA_energy_test",
		"vidore/syntheticDocQA_government_reports_test",
		"vidore/syntheticDocQA_healthcare_industry_test",
	},
	// vidore-v1-beir are the BEIR twins of v1, the datasets MTEB's "ViDoRe(v1)" evaluates.
	"vidore-v1-beir": {
		"vidore/arxivqa_test_subsampled_beir",
		"vidore/docvqa_test_subsampled_beir",
		"vidore/infovqa_test_subsampled_beir",
		"vidore/tabfquad_test_subsampled_beir",
		"vidore/tatdqa_test_beir",
		"vidore/shiftproject_test_beir",
		"vidore/syntheticDocQA_artificial_intelligence_test_beir",
		"vidore/syntheticDocQA_energy_test_beir",
		"vidore/syntheticDocQA_government_reports_test_beir",
		"vidore/syntheticDocQA_healthcare_industry_test_beir",
	},
	// vidore-v2 is the ViDoRe v2 collection (vidore/vidore-benchmark-v2-67ae03e3924e85b36e7f53b0), BEIR layout.
	"vidore-v2": {
		"vidore/esg_reports_v2",
		"vidore/biomedical_lectures_v2",
		"vidore/economics_reports_v2",
		"vidore/esg_reports_human_labeled_v2",
	},
}

// CollectionNames lists the names of Collections, sorted.
func CollectionNames() []string {
	var names []string
	for n := range Collections {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Source is one dataset to evaluate: a local folder or a Hub dataset.
type Source struct {
	// Name is the dataset's key in the results: the Hub id, or the folder as given.
	Name string
	// Dir is the local folder, empty for a Hub dataset.
	Dir string
	// Repo and Revision name the Hub dataset ("" revision: main).
	Repo, Revision string
}

// ParseSources turns --dataset values into sources: a collection name expands to its datasets, an existing
// folder is used as it is, anything else of the form org/name[@revision] is a Hub dataset id. A dataset named
// twice is an error (its results would collide).
func ParseSources(args []string) ([]Source, error) {
	var out []Source
	seen := map[string]bool{}
	add := func(s Source) error {
		key := s.Name
		if s.Dir != "" {
			key = filepath.Clean(s.Dir)
		}
		if seen[key] {
			return fmt.Errorf("dataset %s is given twice", s.Name)
		}
		seen[key] = true
		out = append(out, s)
		return nil
	}
	for _, a := range args {
		a = strings.TrimSpace(a)
		if list, ok := Collections[strings.ToLower(a)]; ok {
			for _, id := range list {
				if err := add(Source{Name: id, Repo: id}); err != nil {
					return nil, err
				}
			}
			continue
		}
		s, err := parseSource(a)
		if err != nil {
			return nil, err
		}
		if err := add(s); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no dataset given")
	}
	return out, nil
}

func parseSource(a string) (Source, error) {
	if a == "" {
		return Source{}, fmt.Errorf("empty dataset name")
	}
	if st, err := os.Stat(a); err == nil {
		if !st.IsDir() {
			return Source{}, fmt.Errorf("dataset %s is a file; give the dataset folder (holding data/ or corpus/, queries/, qrels/)", a)
		}
		return Source{Name: a, Dir: a}, nil
	}
	repo, rev, _ := strings.Cut(a, "@")
	if strings.Count(repo, "/") == 1 && hub.ValidRepoID(repo) && !strings.HasPrefix(a, ".") {
		name := repo
		if rev != "" {
			name = a
		}
		return Source{Name: name, Repo: repo, Revision: rev}, nil
	}
	return Source{}, fmt.Errorf("dataset %q is neither a folder, a Hub dataset id (org/name[@revision]) nor a collection (%s)", a, strings.Join(CollectionNames(), ", "))
}

// hubPatterns are the files a dataset needs from the Hub: both layouts, the test split only.
func hubPatterns(split string) []string {
	var p []string
	for _, dir := range []string{"data", "corpus", "queries", "qrels"} {
		p = append(p, dir+"/"+split+"-*.parquet")
	}
	return p
}

// Fetch returns the local folder of the source: Dir for a folder; for a Hub dataset, its snapshot in the
// Hugging Face cache, downloading the parquet files of the split that are missing (o.RepoType is set to
// dataset). Offline (HF_HUB_OFFLINE=1) it is served from the cache or fails saying what is missing.
func (s Source) Fetch(ctx context.Context, split string, o hub.Options) (string, error) {
	if s.Dir != "" {
		return s.Dir, nil
	}
	if split == "" {
		split = "test"
	}
	o.RepoType = hub.RepoDataset
	if o.PullHint == "" {
		o.PullHint = "colsmol eval vidore --dataset " + s.Name
	}
	dir, err := hub.Snapshot(ctx, s.Repo, s.Revision, hubPatterns(split), o)
	if err != nil {
		return "", fmt.Errorf("fetch the dataset from the Hub: %w", err)
	}
	return filepath.Clean(dir), nil
}
