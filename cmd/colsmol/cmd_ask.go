package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// askFlags are the options of `colsmol ask`.
type askFlags struct {
	k, maxNew    int
	images       []string
	inputsOut    string
	temperature  float64
	topP         float64
	seed         int64
	prefillChunk int
}

func newAskCmd(g *globalOptions) *cobra.Command {
	var f askFlags
	c := &cobra.Command{
		Use:   "ask QUESTION",
		Short: "Answer a question from the best-matching pages, citing them",
		Long: `ask retrieves the --k pages that best match the question, shows them to SmolVLM in one prompt and prints
the answer as it is generated, followed by the pages it came from ([1], [2], ... in the answer refer to them).
With --image it answers about the given images instead, without retrieval (the plain SmolVLM chat prompt: the
images, then the question).

Decoding is greedy unless --temperature is above 0; sampling with the same --seed repeats itself.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runAsk(g, f, strings.TrimSpace(strings.Join(args, " ")), os.Stdout)
		},
	}
	c.Flags().IntVar(&f.k, "k", 2, "pages to retrieve and show the generator (1-8)")
	c.Flags().StringArrayVar(&f.images, "image", nil, "answer about this image instead of retrieving (repeatable)")
	c.Flags().IntVar(&f.maxNew, "max-new-tokens", generate.DefaultMaxNewTokens, "most tokens to generate")
	c.Flags().StringVar(&f.inputsOut, "inputs-out", "", "write the generator's inputs as .npy files into this folder")
	c.Flags().Float64Var(&f.temperature, "temperature", 0, "sampling temperature (0: greedy)")
	c.Flags().Float64Var(&f.topP, "top-p", 1, "nucleus sampling: keep the most likely tokens up to this probability mass (with --temperature)")
	c.Flags().Int64Var(&f.seed, "seed", 0, "sampling seed (with --temperature)")
	c.Flags().IntVar(&f.prefillChunk, "prefill-chunk", 0, fmt.Sprintf("most prompt tokens per decoder run (0: %d; bounds memory with many pages)", generate.DefaultPrefillChunk))
	return c
}

func runAsk(g *globalOptions, f askFlags, question string, stdout io.Writer) error {
	switch {
	case question == "":
		return usageErrorf("the question is empty")
	case len(f.images) == 0 && (f.k < 1 || f.k > 8):
		return usageErrorf("--k must be between 1 and 8 (each page adds up to 17 image tiles to the prompt)")
	case f.maxNew < 1:
		return usageErrorf("--max-new-tokens must be at least 1")
	case f.temperature < 0:
		return usageErrorf("--temperature must be 0 (greedy) or more")
	case f.topP <= 0 || f.topP > 1:
		return usageErrorf("--top-p must be in (0, 1]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// Check what is cheap to check before loading models: the images, or the index.
	var imgs []*vlm.RGB
	for _, p := range f.images {
		b, err := os.ReadFile(p)
		if err != nil {
			return fatalf("read image: %v; check the path given to --image", err)
		}
		img, err := vlm.DecodeImage(b, vlm.AlphaWhite)
		if err != nil {
			return fatalf("decode %s: %v; --image takes PNG, JPEG, GIF, BMP, TIFF or WebP files", p, err)
		}
		imgs = append(imgs, img)
	}
	var st *index.Store
	if len(imgs) == 0 {
		if _, err := os.Stat(g.db); err != nil {
			return fatalf("no index at %s: index documents first with `colsmol index PATH...` (or pass --db), or ask about an image with --image FILE", g.db)
		}
		var err error
		if st, err = index.Open(g.db, index.Options{ReadOnly: true}); err != nil {
			return fatal(err)
		}
		defer st.Close()
	}

	if _, err := ort.Init(g.ortLib); err != nil {
		return fatal(err)
	}
	genDir, err := resolveModel(g, g.generator, roleGenerator)
	if err != nil {
		return fatal(err)
	}
	gen, err := generate.Open(genDir, generate.Options{Threads: g.threads, Device: g.device, PrefillChunk: f.prefillChunk})
	if err != nil {
		return fatal(fmt.Errorf("%w (choose the answer model with --generator)", err))
	}
	defer gen.Close()

	opts := rag.Options{K: f.k, Params: generate.Params{MaxNewTokens: f.maxNew, Temperature: f.temperature, TopP: f.topP, Seed: f.seed}}
	if f.inputsOut != "" {
		opts.InputsHook = func(in *vlm.Inputs) error {
			if err := in.WriteNPY(f.inputsOut); err != nil {
				return fmt.Errorf("--inputs-out: %w", err)
			}
			return nil
		}
	}
	// Stream the answer unless the output is JSON; pieces are whole characters (see generate.Generate).
	out := bufio.NewWriter(stdout)
	streamed := false
	var stream func(string) error
	if !g.json {
		stream = func(s string) error {
			streamed = true
			if _, err := out.WriteString(s); err != nil {
				return err
			}
			return out.Flush()
		}
	}

	var ans *rag.Answer
	if len(imgs) > 0 {
		ans, err = rag.AskImages(ctx, gen, imgs, question, opts, stream)
	} else {
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
		if streamed {
			fmt.Fprintln(out)
			out.Flush()
		}
		return fatal(err)
	}
	for i := range ans.Sources {
		ans.Sources[i].Path = displayPath(ans.Sources[i].Path) // as `search` shows them
	}
	if g.json {
		// interfaces.md: question, answer, sources [{doc_id, path, page, score}], tokens; plus each source's
		// label and the labels the answer cites.
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ans); err != nil {
			return fatal(err)
		}
		return fatal(out.Flush())
	}
	writeAskText(out, ans, streamed)
	return fatal(out.Flush())
}

// writeAskText ends the streamed answer with a newline (or prints the answer when nothing was streamed) and
// lists the sources, marking those the answer cites.
func writeAskText(w io.Writer, ans *rag.Answer, streamed bool) {
	switch {
	case !streamed && ans.Answer == "":
		fmt.Fprintln(w, "(no answer: the model generated no text)")
	case !streamed:
		fmt.Fprintln(w, ans.Answer)
	default:
		fmt.Fprintln(w)
	}
	if len(ans.Sources) == 0 {
		return
	}
	cited := map[int]bool{}
	for _, c := range ans.Cited {
		cited[c] = true
	}
	fmt.Fprintln(w, "\nSources:")
	for _, s := range ans.Sources {
		mark := " "
		if cited[s.Label] {
			mark = "*"
		}
		fmt.Fprintf(w, "%s [%d] %s, page %d (score %.2f)\n", mark, s.Label, s.Path, s.Page, s.Score)
	}
	if len(ans.Cited) > 0 {
		fmt.Fprintln(w, "(* cited in the answer)")
	}
}
