package main

import "github.com/spf13/cobra"

func newModelCmd(g *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "model", Short: "Download, list and convert models"}
	c.AddCommand(newModelPullCmd(g), newModelLsCmd(g), newModelConvertCmd(g))
	return c
}
