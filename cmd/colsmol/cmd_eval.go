package main

import "github.com/spf13/cobra"

func newEvalCmd(g *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "eval", Short: "Run retrieval benchmarks"}
	c.AddCommand(&cobra.Command{
		Use: "vidore", Short: "Run the ViDoRe benchmark", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return notBuilt("colsmol eval vidore") },
	})
	return c
}
