package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/colsmol/colsmol/index"
)

func newDocsCmd(g *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "docs", Short: "List or remove indexed documents"}
	c.AddCommand(&cobra.Command{
		Use: "ls", Short: "List indexed documents", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runDocsLs(c, g) },
	}, &cobra.Command{
		Use:   "rm ID|PATH...",
		Short: "Remove documents by id or path",
		Long: `Remove documents and all their pages from the index, by document id (as docs ls shows it) or by the
path they were indexed from. The files themselves are not touched.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return runDocsRm(c, g, args) },
	})
	return c
}

// docsJSON is the --json answer of `docs ls` (interfaces.md).
type docsJSON struct {
	Documents []docJSON `json:"documents"`
}

type docJSON struct {
	DocID     string    `json:"doc_id"`
	Path      string    `json:"path"`
	SHA256    string    `json:"sha256"`
	Pages     int       `json:"pages"`
	IndexedAt time.Time `json:"indexed_at"`
}

// openExistingIndex opens --db, refusing to create a file that is not there.
func openExistingIndex(g *globalOptions, readOnly bool) (*index.Store, error) {
	if _, err := os.Stat(g.db); err != nil {
		return nil, fatalf("no index at %s: index documents first with `colsmol index PATH...` (or pass --db)", g.db)
	}
	st, err := index.Open(g.db, index.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, fatal(err)
	}
	return st, nil
}

func runDocsLs(c *cobra.Command, g *globalOptions) error {
	st, err := openExistingIndex(g, true)
	if err != nil {
		return err
	}
	defer st.Close()
	docs, err := st.Documents()
	if err != nil {
		return fatal(err)
	}
	w := c.OutOrStdout()
	if g.json {
		out := docsJSON{Documents: []docJSON{}}
		for _, d := range docs {
			out.Documents = append(out.Documents, docJSON{DocID: d.ID, Path: displayPath(d.Path), SHA256: d.SHA256, Pages: d.Pages, IndexedAt: d.IndexedAt})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(docs) == 0 {
		fmt.Fprintf(w, "no documents in %s: add some with `colsmol index PATH...`\n", g.db)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPAGES\tINDEXED\tPATH")
	pages := 0
	for _, d := range docs {
		pages += d.Pages
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", d.ID, d.Pages, d.IndexedAt.Local().Format("2006-01-02 15:04"), displayPath(d.Path))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d documents, %d pages\n", len(docs), pages)
	return nil
}

func runDocsRm(c *cobra.Command, g *globalOptions, args []string) error {
	st, err := openExistingIndex(g, false)
	if err != nil {
		return err
	}
	defer st.Close()
	failed := 0
	for _, arg := range args {
		doc, err := findDocument(st, arg)
		if err == nil {
			err = st.Delete(doc.ID)
		}
		if err != nil {
			failed++
			fmt.Fprintf(c.ErrOrStderr(), "colsmol: %s: %v\n", arg, err)
			continue
		}
		if !g.quiet {
			fmt.Fprintf(c.OutOrStdout(), "removed %s (%s, %d pages)\n", displayPath(doc.Path), doc.ID, doc.Pages)
		}
	}
	switch {
	case failed == len(args):
		return &exitError{code: exitNothing}
	case failed > 0:
		return &exitError{code: exitPartial}
	}
	return nil
}

// findDocument resolves a document id or an indexed path (as given, or made absolute).
func findDocument(st *index.Store, arg string) (*index.Document, error) {
	if d, err := st.Document(arg); err == nil {
		return d, nil
	} else if !errors.Is(err, index.ErrNotFound) {
		return nil, err
	}
	candidates := []string{arg}
	if abs, err := filepath.Abs(arg); err == nil && abs != arg {
		candidates = append(candidates, abs)
	}
	for _, p := range candidates {
		d, err := st.ByPath(p)
		if err != nil {
			return nil, err
		}
		if d != nil {
			return d, nil
		}
	}
	return nil, fmt.Errorf("no indexed document has this id or path; see `colsmol docs ls`")
}
