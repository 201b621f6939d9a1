package main

import "github.com/spf13/cobra"

func newSearchCmd(g *globalOptions) *cobra.Command {
	var k int
	c := &cobra.Command{
		Use:   "search QUERY",
		Short: "Find the pages that best match a query",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return notBuilt("colsmol search")
		},
	}
	c.Flags().IntVar(&k, "k", 5, "number of results")
	return c
}
