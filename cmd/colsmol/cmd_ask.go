package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/generate"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
	"github.com/colsmol/colsmol/rag"
)

func newAskCmd(g *globalOptions) *cobra.Command {
	var k, maxNew int
	var images []string
	var inputsOut string
	var temperature, topP float64
	var seed int64
	c := &cobra.Command{
		Use:   "ask QUESTION",
		Short: "Answer a question from the best-matching pages, citing them",
		Long: `ask retrieves the --k pages that best match the question, shows them to SmolVLM in one prompt and prints
the answer as it is generated, followed by the pages it came from. With --image it answers about the given
images instead, without retrieval (the plain SmolVLM chat prompt: the images, then the question).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			question := strings.TrimSpace(strings.Join(args, " "))
			if question == "" {
				return usageErrorf("the question is empty")
			}
			if k < 1 || k > 8 {
				return usageErrorf("--k must be between 1 and 8 (each page adds up to 17 image tiles to the prompt)")
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			if _, err := ort.Init(g.ortLib); err != nil {
				return fatal(err)
			}
			genDir, err := resolveModel(g, g.generator, roleGenerator)
			if err != nil {
				return fatal(err)
			}
			gen, err := generate.Open(genDir, generate.Options{Threads: g.threads, Device: g.device})
			if err != nil {
				return fatal(err)
			}
			defer gen.Close()
			opts := rag.Options{K: k, Params: generate.Params{MaxNewTokens: maxNew, Temperature: temperature, TopP: topP, Seed: seed}}
			if inputsOut != "" {
				opts.InputsHook = func(in *vlm.Inputs) error { return in.WriteNPY(inputsOut) }
			}
			stream := func(s string) error { _, err := fmt.Fprint(os.Stdout, s); return err }
			if g.json {
				stream = nil
			}
			var ans *rag.Answer
			if len(images) > 0 {
				imgs := make([]*vlm.RGB, 0, len(images))
				for _, p := range images {
					b, err := os.ReadFile(p)
					if err != nil {
						return fatalf("read %s: %v", p, err)
					}
					img, err := vlm.DecodeImage(b, vlm.AlphaWhite)
					if err != nil {
						return fatalf("decode %s: %v", p, err)
					}
					imgs = append(imgs, img)
				}
				ans, err = rag.AskImages(ctx, gen, imgs, question, opts, stream)
			} else {
				st, err2 := index.Open(g.db, index.Options{ReadOnly: true})
				if err2 != nil {
					return fatal(err2)
				}
				defer st.Close()
				modelDir, err2 := resolveModel(g, g.model, roleRetriever)
				if err2 != nil {
					return fatal(err2)
				}
				em, err2 := embed.Open(modelDir, embed.Options{Threads: g.threads, Device: g.device})
				if err2 != nil {
					return fatal(err2)
				}
				defer em.Close()
				ans, err = rag.Ask(ctx, st, em, gen, question, opts, stream)
			}
			if err != nil {
				return fatal(err)
			}
			if g.json {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ans)
			}
			fmt.Println()
			if len(ans.Sources) > 0 {
				fmt.Println("\nSources:")
				for _, s := range ans.Sources {
					fmt.Printf("  [%d] %s, page %d (score %.2f)\n", s.Label, s.Path, s.Page, s.Score)
				}
			}
			return nil
		},
	}
	c.Flags().IntVar(&k, "k", 2, "pages to retrieve and show the generator")
	c.Flags().StringArrayVar(&images, "image", nil, "answer about this image instead of retrieving (repeatable)")
	c.Flags().IntVar(&maxNew, "max-new-tokens", 256, "most tokens to generate")
	c.Flags().StringVar(&inputsOut, "inputs-out", "", "write the generator's inputs as .npy files into this folder")
	c.Flags().Float64Var(&temperature, "temperature", 0, "sampling temperature (0: greedy)")
	c.Flags().Float64Var(&topP, "top-p", 1, "nucleus sampling mass when --temperature > 0")
	c.Flags().Int64Var(&seed, "seed", 0, "sampling seed")
	return c
}
