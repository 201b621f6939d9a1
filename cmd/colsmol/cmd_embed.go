package main

import "github.com/spf13/cobra"

func newEmbedCmd(g *globalOptions) *cobra.Command {
	var image, query, out, inputsOut string
	var inputsOnly bool
	c := &cobra.Command{
		Use:   "embed (--image FILE | --query TEXT)",
		Short: "Embed one page image or one query and write the vectors or the model inputs as .npy",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return notBuilt("colsmol embed")
		},
	}
	c.Flags().StringVar(&image, "image", "", "page image to embed")
	c.Flags().StringVar(&query, "query", "", "query text to embed")
	c.Flags().StringVar(&out, "out", "", "write the embedding as float32 [L,128] .npy")
	c.Flags().StringVar(&inputsOut, "inputs-out", "", "write the exact model inputs as .npy files into this folder")
	c.Flags().BoolVar(&inputsOnly, "inputs-only", false, "stop after writing the inputs (needs no ONNX Runtime)")
	return c
}
