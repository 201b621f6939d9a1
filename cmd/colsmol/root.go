package main

import (
	"os"
	"runtime"

	"github.com/spf13/cobra"
)

// globalOptions are the flags every command takes (interfaces.md, "Global flags").
type globalOptions struct {
	db        string
	model     string
	generator string
	ortLib    string
	device    string
	threads   int
	json      bool
	quiet     bool
	verbose   bool
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newRootCmd() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "colsmol",
		Short: "Search folders of PDFs and images by what their pages show, and get answers that cite them",
		Long: `colsmol indexes PDFs and images with ColSmolVLM (late-interaction multi-vector embeddings),
searches them with MaxSim, and answers questions from the best pages with SmolVLM.
Everything runs locally on the CPU through ONNX Runtime.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.db, "db", envOr("COLSMOL_DB", "./colsmol.db"), "the index file (env COLSMOL_DB)")
	pf.StringVar(&g.model, "model", envOr("COLSMOL_MODEL", "colsmol-256m"), "retrieval model: a registry name or a local model folder (env COLSMOL_MODEL)")
	pf.StringVar(&g.generator, "generator", envOr("COLSMOL_GENERATOR", "smolvlm-256m-instruct"), "answer model: a registry name or a local model folder (env COLSMOL_GENERATOR)")
	pf.StringVar(&g.ortLib, "ort-lib", os.Getenv("ONNXRUNTIME_LIB"), "ONNX Runtime shared library (env ONNXRUNTIME_LIB; default ./lib, next to the executable, then system paths)")
	pf.StringVar(&g.device, "device", "cpu", "execution device: cpu or cuda (cuda needs a CUDA build of ONNX Runtime in --ort-lib)")
	pf.IntVar(&g.threads, "threads", runtime.NumCPU(), "ONNX Runtime threads per model")
	pf.BoolVar(&g.json, "json", false, "machine-readable output on stdout (one JSON document)")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "fewer log lines")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "more log lines")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v (see %s --help)", err, c.CommandPath())
	})

	root.AddCommand(
		newIndexCmd(g),
		newSearchCmd(g),
		newAskCmd(g),
		newServeCmd(g),
		newEmbedCmd(g),
		newDocsCmd(g),
		newModelCmd(g),
		newEvalCmd(g),
		newStatsCmd(g),
	)
	return root
}
