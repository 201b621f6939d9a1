package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/colsmol/colsmol/internal/modelbuild"
)

func newModelConvertCmd(g *globalOptions) *cobra.Command {
	var o modelbuild.ConvertOptions
	c := &cobra.Command{
		Use:   "convert",
		Short: "Build ONNX graphs from safetensors weights (or random weights)",
		Long: `Build a colsmol model folder (configs, tokenizer, onnx/) from an Idefics3 checkpoint.

  colsmol model convert --base DIR [--adapter DIR] --out DIR [--precision fp32|int8|q4]
      DIR is a Hugging Face snapshot folder (config.json, model.safetensors, processor and tokenizer files) of
      SmolVLM-*-Instruct or a ColSmolVLM base; --adapter merges a PEFT LoRA adapter (e.g. vidore/colSmol-256M).
  colsmol model convert --random --preset NAME --seed N --out DIR
      random weights of a preset architecture, with the tokenizer of --tokenizer DIR (default
      testdata/tokenizer). Presets: ` + strings.Join(modelbuild.Presets(), ", ") + `.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if o.Out == "" {
				return usageErrorf("--out DIR is required")
			}
			if o.Random == (o.Base != "") {
				return usageErrorf("give either --base DIR (with an optional --adapter DIR) or --random --preset NAME")
			}
			if o.Random && !slices.Contains(modelbuild.Presets(), o.Preset) {
				return usageErrorf("--random needs --preset NAME, one of %s", strings.Join(modelbuild.Presets(), ", "))
			}
			if !g.quiet {
				o.Log = func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
			}
			if err := modelbuild.Convert(c.Context(), o); err != nil {
				return fatalf("convert: %v", err)
			}
			if !g.quiet {
				fmt.Fprintf(os.Stderr, "model folder written to %s\n", o.Out)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.Base, "base", "", "Hugging Face snapshot folder with config.json and *.safetensors")
	f.StringVar(&o.Adapter, "adapter", "", "PEFT LoRA adapter folder to merge (adapter_config.json, adapter_model.safetensors)")
	f.StringVar(&o.Out, "out", "", "model folder to write")
	f.BoolVar(&o.Random, "random", false, "use seeded random weights of --preset instead of --base")
	f.StringVar(&o.Preset, "preset", "", "architecture for --random: "+strings.Join(modelbuild.Presets(), ", "))
	f.Int64Var(&o.Seed, "seed", 1, "seed of the random weights")
	f.StringVar(&o.Precision, "precision", "fp32", "fp32, int8 (int8 weights per output channel, dynamically quantized activations) or q4 (4-bit weights, blocks of 32)")
	f.StringVar(&o.Tokenizer, "tokenizer", "", "folder with the tokenizer files of a random model (default testdata/tokenizer)")
	f.StringVar(&o.WeightsOut, "weights-out", "", "also write the weights used (merged, float32, Hugging Face names) to this .safetensors file")
	return c
}
