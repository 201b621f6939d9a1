package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/colsmol/colsmol/index"
)

func newSearchCmd(g *globalOptions) *cobra.Command {
	var k int
	var exact bool
	var rerank, candidates int
	c := &cobra.Command{
		Use:   "search QUERY",
		Short: "Find the pages that best match a query",
		Long: `Find the pages that best match a query (words are joined into one query).
Scores are MaxSim: the sum over the query's vectors of the best dot product with the page's vectors.
On a large index the search runs in phases: binary MaxSim over small page sketches picks
--candidates pages, binary MaxSim over their full sign codes keeps --rerank, and exact MaxSim
ranks those. --exact scores every page exactly instead (slow on large indexes).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runSearch(c, g, strings.Join(args, " "), k, index.SearchOptions{Exact: exact, Rerank: rerank, Candidates: candidates})
		},
	}
	c.Flags().IntVar(&k, "k", 5, "number of results")
	c.Flags().BoolVar(&exact, "exact", false, "score every page exactly (skip the fast binary phases)")
	c.Flags().IntVar(&rerank, "rerank", 0, fmt.Sprintf("pages the binary phases pass on to exact scoring (0: %d, sized so recall holds)", index.DefaultRerank))
	c.Flags().IntVar(&candidates, "candidates", 0, fmt.Sprintf("pages the sketch phase passes on to the full sign codes (0: %d; the sketch phase runs above twice this many pages)", index.DefaultCandidates))
	return c
}

// searchJSON is the --json answer of interfaces.md.
type searchJSON struct {
	Query   string         `json:"query"`
	K       int            `json:"k"`
	Results []searchResult `json:"results"`
}

type searchResult struct {
	Rank  int     `json:"rank"`
	Score float32 `json:"score"`
	DocID string  `json:"doc_id"`
	Path  string  `json:"path"`
	Page  int     `json:"page"`
}

func runSearch(c *cobra.Command, g *globalOptions, query string, k int, o index.SearchOptions) error {
	if o.Rerank < 0 {
		return usageErrorf("--rerank must be 0 (default) or a positive number of pages")
	}
	if o.Candidates < 0 {
		return usageErrorf("--candidates must be 0 (default) or a positive number of pages")
	}
	if k <= 0 {
		return usageErrorf("--k must be at least 1")
	}
	if strings.TrimSpace(query) == "" {
		return usageErrorf("the query is empty")
	}
	st, err := openExistingIndex(g, true)
	if err != nil {
		return err
	}
	defer st.Close()
	em, _, err := openEmbedder(g)
	if err != nil {
		return err
	}
	defer em.Close()
	q, err := em.EmbedQuery(c.Context(), query)
	if err != nil {
		return fatal(fmt.Errorf("embed the query: %w", err))
	}
	res, err := st.Search(q, k, o)
	if err != nil {
		return fatal(err)
	}
	out := searchJSON{Query: query, K: k, Results: []searchResult{}}
	for i, r := range res {
		out.Results = append(out.Results, searchResult{Rank: i + 1, Score: r.Score, DocID: r.DocID, Path: displayPath(r.Path), Page: r.Page})
	}
	w := c.OutOrStdout()
	if g.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fatal(err)
		}
		return nil
	}
	if len(out.Results) == 0 {
		fmt.Fprintln(w, "no pages indexed yet: run `colsmol index PATH...` first")
		return nil
	}
	for _, r := range out.Results {
		fmt.Fprintf(w, "%2d. %8.3f  %s  page %d\n", r.Rank, r.Score, r.Path, r.Page)
	}
	return nil
}
