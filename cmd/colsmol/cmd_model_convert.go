package main

import "github.com/spf13/cobra"

func newModelConvertCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "convert", Short: "Build ONNX graphs from safetensors weights (or random weights)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return notBuilt("colsmol model convert") },
	}
}
