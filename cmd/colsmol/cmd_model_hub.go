package main

import "github.com/spf13/cobra"

func newModelPullCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "pull NAME|ORG/REPO[@REV]", Short: "Download a model into the Hugging Face cache", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return notBuilt("colsmol model pull") },
	}
}

func newModelLsCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "ls", Short: "List cached models", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return notBuilt("colsmol model ls") },
	}
}
