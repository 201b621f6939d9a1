package main

import "github.com/spf13/cobra"

func newAskCmd(g *globalOptions) *cobra.Command {
	var k, maxNew int
	var images []string
	var inputsOut string
	c := &cobra.Command{
		Use:   "ask QUESTION",
		Short: "Answer a question from the best-matching pages, citing them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return notBuilt("colsmol ask")
		},
	}
	c.Flags().IntVar(&k, "k", 2, "pages to retrieve and show the generator")
	c.Flags().StringArrayVar(&images, "image", nil, "answer about this image instead of retrieving (repeatable)")
	c.Flags().IntVar(&maxNew, "max-new-tokens", 256, "most tokens to generate")
	c.Flags().StringVar(&inputsOut, "inputs-out", "", "write the generator's inputs as .npy files into this folder")
	return c
}
