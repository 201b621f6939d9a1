package main

import "github.com/spf13/cobra"

func newModelCmd(g *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "model", Short: "Download, list and convert models"}
	c.AddCommand(&cobra.Command{
		Use: "pull NAME|ORG/REPO[@REV]", Short: "Download a model into the Hugging Face cache", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return notBuilt("colsmol model pull") },
	}, &cobra.Command{
		Use: "ls", Short: "List cached models", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return notBuilt("colsmol model ls") },
	}, &cobra.Command{
		Use: "convert", Short: "Build ONNX graphs from safetensors weights (or random weights)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return notBuilt("colsmol model convert") },
	})
	return c
}
