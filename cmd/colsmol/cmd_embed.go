package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/internal/npy"
	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/internal/vlm"
)

// embedFlags are the flags of `colsmol embed`.
type embedFlags struct {
	image, query, out, inputsOut string
	inputsOnly                   bool
	hasImage, hasQuery           bool // the flag was given (an empty query is a query)
}

func newEmbedCmd(g *globalOptions) *cobra.Command {
	var f embedFlags
	c := &cobra.Command{
		Use:   "embed (--image FILE | --query TEXT)",
		Short: "Embed one page image or one query and write the vectors or the model inputs as .npy",
		Long: `Embed one page image or one query with the retrieval model (--model) and write the
multi-vector as float32 [L,128] .npy (--out). --inputs-out DIR writes the exact model inputs
(input_ids.npy, attention_mask.npy, and for images pixel_values.npy and pixel_attention_mask.npy);
with --inputs-only it stops there and needs neither the ONNX graphs nor ONNX Runtime.`,
		Example: `  colsmol embed --model ./models/colsmol-256m --image page.png --out page.npy
  colsmol embed --query "quarterly revenue" --out query.npy
  colsmol embed --image page.png --inputs-out inputs/ --inputs-only`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			f.hasImage, f.hasQuery = c.Flags().Changed("image"), c.Flags().Changed("query")
			return runEmbed(c, g, f)
		},
	}
	c.Flags().StringVar(&f.image, "image", "", "page image to embed")
	c.Flags().StringVar(&f.query, "query", "", "query text to embed")
	c.Flags().StringVar(&f.out, "out", "", "write the embedding as float32 [L,128] .npy")
	c.Flags().StringVar(&f.inputsOut, "inputs-out", "", "write the exact model inputs as .npy files into this folder")
	c.Flags().BoolVar(&f.inputsOnly, "inputs-only", false, "stop after writing the inputs (needs no ONNX Runtime)")
	return c
}

// embedSummary is what `colsmol embed --json` prints.
type embedSummary struct {
	Kind           string      `json:"kind"` // "page" or "query"
	Input          string      `json:"input"`
	Tokens         int         `json:"tokens"`
	Tiles          *embedTiles `json:"tiles,omitempty"`
	Vectors        int         `json:"vectors,omitempty"`
	Dim            int         `json:"dim,omitempty"`
	ImagePositions int         `json:"image_positions,omitempty"`
	Out            string      `json:"out,omitempty"`
	InputsOut      string      `json:"inputs_out,omitempty"`
	Seconds        float64     `json:"seconds,omitempty"`
}

// embedTiles is a page's tile grid in the JSON summary (rows = cols = 0: one unsplit tile).
type embedTiles struct {
	Rows int `json:"rows"`
	Cols int `json:"cols"`
	N    int `json:"n"`
}

func tilesOf(t vlm.TileLayout) *embedTiles { return &embedTiles{Rows: t.Rows, Cols: t.Cols, N: t.N} }

func runEmbed(c *cobra.Command, g *globalOptions, f embedFlags) error {
	if f.hasImage == f.hasQuery || (f.hasImage && f.image == "") {
		return usageErrorf("give exactly one of --image FILE or --query TEXT (see colsmol embed --help)")
	}
	if f.inputsOnly && f.inputsOut == "" {
		return usageErrorf("--inputs-only needs --inputs-out DIR")
	}
	dir, err := resolveModel(g, g.model, roleRetriever)
	if err != nil {
		return err
	}
	sum := embedSummary{Kind: "query", Input: f.query, InputsOut: f.inputsOut}
	var img *vlm.RGB
	if f.hasImage {
		sum.Kind, sum.Input = "page", f.image
		if img, err = readImage(f.image); err != nil {
			return fatal(err)
		}
	}
	if f.inputsOut != "" {
		if err := writeInputs(dir, img, f.query, f.inputsOut, &sum); err != nil {
			return fatal(err)
		}
		if f.inputsOnly {
			return printEmbedSummary(c, g, sum)
		}
	}
	if err := embedAndWrite(c, g, dir, img, f, &sum); err != nil {
		return fatal(err)
	}
	return printEmbedSummary(c, g, sum)
}

// readImage reads and decodes an image file the way the retriever expects it (alpha dropped).
func readImage(path string) (*vlm.RGB, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	img, err := vlm.DecodeImage(data, vlm.AlphaDrop)
	if err != nil {
		return nil, fmt.Errorf("decode image %s: %w", path, err)
	}
	return img, nil
}

// writeInputs builds the model inputs with the folder's processor only (no ONNX Runtime) and writes them
// as .npy files into outDir.
func writeInputs(dir string, img *vlm.RGB, query, outDir string, sum *embedSummary) error {
	proc, err := vlm.NewProcessor(dir)
	if err != nil {
		return fmt.Errorf("load the processor of %s: %w", dir, err)
	}
	var in *vlm.Inputs
	if img != nil {
		in, err = proc.Document(img)
	} else {
		in, err = proc.Query(query)
	}
	if err != nil {
		return fmt.Errorf("prepare the model inputs: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", outDir, err)
	}
	s := len(in.InputIDs)
	sum.Tokens = s
	files := map[string]*npy.Array{
		"input_ids.npy":      npy.I64Array([]int{1, s}, in.InputIDs),
		"attention_mask.npy": npy.I64Array([]int{1, s}, in.AttentionMask),
	}
	if img != nil {
		t := in.TileSize
		n := len(in.PixelValues) / (3 * t * t)
		files["pixel_values.npy"] = npy.F32Array([]int{1, n, 3, t, t}, in.PixelValues)
		files["pixel_attention_mask.npy"] = npy.BoolArray([]int{1, n, t, t}, in.PixelMask)
		if len(in.Tiles) > 0 {
			sum.Tiles = tilesOf(in.Tiles[0])
		}
	}
	for name, a := range files {
		if err := npy.WriteFile(filepath.Join(outDir, name), a); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// embedAndWrite loads ONNX Runtime and the model, embeds the page or query and writes --out.
func embedAndWrite(c *cobra.Command, g *globalOptions, dir string, img *vlm.RGB, f embedFlags, sum *embedSummary) error {
	if _, err := ort.Init(g.ortLib); err != nil {
		return err
	}
	em, err := embed.Open(dir, embed.Options{Threads: g.threads, Device: g.device})
	if err != nil {
		return err
	}
	defer em.Close()
	var vecs [][]float32
	if img != nil {
		pages, err := em.EmbedPages(c.Context(), []*vlm.RGB{img})
		if err != nil {
			return fmt.Errorf("embed %s: %w", f.image, err)
		}
		vecs = pages[0].Vectors
		sum.Tiles, sum.ImagePositions = tilesOf(pages[0].Tiles), len(pages[0].ImagePositions)
	} else if vecs, err = em.EmbedQuery(c.Context(), f.query); err != nil {
		return fmt.Errorf("embed the query: %w", err)
	}
	sum.Vectors, sum.Seconds = len(vecs), em.Stats().Total.Seconds()
	if sum.Tokens == 0 {
		sum.Tokens = len(vecs) // every position is kept
	}
	if len(vecs) > 0 {
		sum.Dim = len(vecs[0])
	}
	if f.out == "" {
		return nil
	}
	flat := make([]float32, 0, sum.Vectors*sum.Dim)
	for _, v := range vecs {
		flat = append(flat, v...)
	}
	if err := npy.WriteFile(f.out, npy.F32Array([]int{sum.Vectors, sum.Dim}, flat)); err != nil {
		return fmt.Errorf("write %s: %w", f.out, err)
	}
	sum.Out = f.out
	return nil
}

// printEmbedSummary reports what was done: one JSON document with --json, else one line on stderr.
func printEmbedSummary(c *cobra.Command, g *globalOptions, sum embedSummary) error {
	if g.json {
		enc := json.NewEncoder(c.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	if g.quiet {
		return nil
	}
	w := c.ErrOrStderr()
	what := fmt.Sprintf("%s %q", sum.Kind, sum.Input)
	if sum.InputsOut != "" {
		fmt.Fprintf(w, "wrote the model inputs of %s (%d tokens) to %s\n", what, sum.Tokens, sum.InputsOut)
	}
	if sum.Vectors > 0 {
		dest := "not written (add --out FILE.npy)"
		if sum.Out != "" {
			dest = "written to " + sum.Out
		}
		fmt.Fprintf(w, "embedded %s: %d vectors of %d in %.2f s, %s\n", what, sum.Vectors, sum.Dim, sum.Seconds, dest)
	}
	return nil
}
