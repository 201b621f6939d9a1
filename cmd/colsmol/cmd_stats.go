package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/colsmol/colsmol/internal/hub"
	"github.com/colsmol/colsmol/maxsim"
)

func newStatsCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Show the size of the index and the memory searching it takes",
		Long: `Show what the index holds (documents, pages, vectors), its size on disk and per page, and an
estimate of the memory a searching process keeps resident: the sketch of every page (at most 64 1-bit
codes, about 1 KB) for the fast first phase. The candidates' full 1-bit codes (16 bytes per vector) and
the float16 vectors of the pages scored exactly are read through the operating system's page cache.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			st, err := openExistingIndex(g, true)
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := st.Stats()
			if err != nil {
				return fatal(err)
			}
			w := c.OutOrStdout()
			if g.json {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			fmt.Fprintf(w, "index          %s\n", s.Path)
			fmt.Fprintf(w, "documents      %d\n", s.Documents)
			fmt.Fprintf(w, "pages          %d\n", s.Pages)
			fmt.Fprintf(w, "vectors        %d (%d dimensions)\n", s.Vectors, s.Dim)
			fmt.Fprintf(w, "file           %s (%s per page)\n", hub.HumanSize(s.FileBytes), hub.HumanSize(int64(s.BytesPerPage)))
			fmt.Fprintf(w, "  vectors      %s float16 (%s per page)\n", hub.HumanSize(s.VectorBytes), hub.HumanSize(int64(s.VectorBytesPerPage)))
			fmt.Fprintf(w, "  codes        %s 1-bit\n", hub.HumanSize(s.CodeBytes))
			fmt.Fprintf(w, "  sketches     %s 1-bit (at most %d codes per page)\n", hub.HumanSize(s.SketchBytes), maxsim.DefaultSketchSize)
			fmt.Fprintf(w, "  images       %s thumbnails and previews\n", hub.HumanSize(s.ImageBytes))
			fmt.Fprintf(w, "resident       %s for search (sketches in memory; codes and vectors read from the file)\n", hub.HumanSize(s.ResidentBytes))
			return nil
		},
	}
}
