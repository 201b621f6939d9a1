package main

import "github.com/spf13/cobra"

func newServeCmd(g *globalOptions) *cobra.Command {
	var addr string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the REST API and the search web UI",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return notBuilt("colsmol serve")
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:7860", "address to listen on")
	return c
}
