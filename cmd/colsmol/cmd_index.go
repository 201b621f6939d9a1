package main

import "github.com/spf13/cobra"

func newIndexCmd(g *globalOptions) *cobra.Command {
	var prune bool
	var dpi, workers int
	c := &cobra.Command{
		Use:   "index PATH...",
		Short: "Index PDFs and images (files and folders) into the index file",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return notBuilt("colsmol index")
		},
	}
	c.Flags().BoolVar(&prune, "prune", false, "remove documents whose files are gone")
	c.Flags().IntVar(&dpi, "dpi", 0, "PDF render resolution (0: chosen so pages land near the model's working size)")
	c.Flags().IntVar(&workers, "workers", 0, "render and preprocessing workers (0: automatic)")
	return c
}
