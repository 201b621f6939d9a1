package main

import "github.com/spf13/cobra"

func newDocsCmd(g *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "docs", Short: "List or remove indexed documents"}
	c.AddCommand(&cobra.Command{
		Use: "ls", Short: "List indexed documents", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return notBuilt("colsmol docs ls") },
	}, &cobra.Command{
		Use: "rm ID|PATH...", Short: "Remove documents by id or path", Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return notBuilt("colsmol docs rm") },
	})
	return c
}
