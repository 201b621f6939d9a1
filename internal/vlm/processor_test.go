package vlm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/colsmol/colsmol/internal/npy"
)

// modelDir assembles a model folder from the test tokenizer (testdata/tokenizer) and the SmolVLM processor
// configs in testdata/model.
func modelDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []struct{ src, name string }{
		{filepath.Join(tokDir, "tokenizer.json"), "tokenizer.json"},
		{filepath.Join(tokDir, "tokenizer_config.json"), "tokenizer_config.json"},
		{filepath.Join("testdata", "model", "preprocessor_config.json"), "preprocessor_config.json"},
		{filepath.Join("testdata", "model", "processor_config.json"), "processor_config.json"},
	} {
		b, err := os.ReadFile(f.src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newTestProcessor(t testing.TB) *Processor {
	t.Helper()
	p, err := NewProcessor(modelDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type promptGolden struct {
	Kind     string   `json:"kind"`
	Style    string   `json:"style"`
	Layouts  [][2]int `json:"layouts"`
	Query    string   `json:"query"`
	Question string   `json:"question"`
	Prompt   string   `json:"prompt"`
	IDs      []int64  `json:"ids"`
}

// Prompt strings and ids against an independent restatement of transformers' prompt expansion tokenised by
// the Hugging Face tokenizers package (scripts/tokenizer/goldens.js).
func TestPromptsMatchReference(t *testing.T) {
	var g struct {
		Cases []promptGolden `json:"cases"`
	}
	readGolden(t, filepath.Join(tokDir, "prompt_goldens.json"), &g)
	p := newTestProcessor(t)
	for i, c := range g.Cases {
		p.Prompts = PromptCurrent
		if c.Style == "legacy" {
			p.Prompts = PromptLegacy
		}
		var layouts []TileLayout
		for _, l := range c.Layouts {
			n := l[0]*l[1] + 1
			layouts = append(layouts, TileLayout{Rows: l[0], Cols: l[1], N: n})
		}
		var text string
		var err error
		switch c.Kind {
		case "document":
			text, err = p.expandImages(p.DocumentPrompt(), layouts)
		case "query":
			var in *Inputs
			in, err = p.Query(c.Query)
			if err == nil {
				text = in.Prompt
				if !reflect.DeepEqual(in.InputIDs, c.IDs) {
					t.Errorf("case %d: Query ids differ", i)
				}
				if in.PixelValues != nil || len(in.AttentionMask) != len(in.InputIDs) {
					t.Errorf("case %d: query inputs malformed", i)
				}
			}
		case "chat":
			text, err = p.expandImages(ChatPrompt(len(layouts), c.Question), layouts)
		}
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if text != c.Prompt {
			t.Errorf("case %d (%s %s %v): prompt differs\n got %.200q\nwant %.200q", i, c.Kind, c.Style, c.Layouts, text, c.Prompt)
		}
		if ids := p.Tok.Encode(text); !reflect.DeepEqual(ids, c.IDs) {
			t.Errorf("case %d: ids differ", i)
		}
	}
}

// The id layout of models.md §3.3 for a 3×4 document with the current prompt.
func TestDocumentIDLayout(t *testing.T) {
	p := newTestProcessor(t)
	text, err := p.expandImages(p.DocumentPrompt(), []TileLayout{{Rows: 3, Cols: 4, N: 13}})
	if err != nil {
		t.Fatal(err)
	}
	ids := p.Tok.Encode(text)
	if ids[0] != 1 {
		t.Fatalf("first id %d, want 1 (<|im_start|>)", ids[0])
	}
	count := map[int64]int{}
	for _, id := range ids {
		count[id]++
	}
	if count[49190] != 13*64 || count[49189] != 12+2 || count[49152] != 1 || count[49279] != 1 {
		t.Errorf("counts: image %d fake %d global %d eou %d", count[49190], count[49189], count[49152], count[49279])
	}
	for r := 1; r <= 3; r++ {
		for c := 1; c <= 4; c++ {
			if count[int64(49153+(r-1)*6+(c-1))] != 1 {
				t.Errorf("row %d col %d token missing", r, c)
			}
		}
	}
}

func TestPlanTiles(t *testing.T) {
	c := DefaultImageConfig()
	for _, tc := range []struct{ w, h, rows, cols int }{
		{1280, 800, 3, 4}, {16, 32, 4, 2}, {1654, 2339, 4, 3}, {1000, 1000, 4, 4}, {612, 792, 4, 4}, {300, 60, 1, 4},
	} {
		got := c.PlanTiles(tc.w, tc.h)
		if got.Rows != tc.rows || got.Cols != tc.cols || got.N != tc.rows*tc.cols+1 {
			t.Errorf("%dx%d: got %+v, want %dx%d", tc.w, tc.h, got, tc.rows, tc.cols)
		}
	}
}

// pixel_values against the Pillow + NumPy restatement of Idefics3ImageProcessor (scripts/goldens/vlm/images.py),
// exact over the whole float32 array.
func TestPixelValuesMatchPillow(t *testing.T) {
	g := loadImageGoldens(t)
	base, err := os.ReadFile(filepath.Join("testdata", "model", "preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.PixelValues {
		name := c.Image + "/" + c.Mode + c.Config
		t.Run(name, func(t *testing.T) {
			cfg, err := ParseImageConfig(base)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(c.Config), &cfg); err != nil {
				t.Fatal(err)
			}
			ref := c.Mode
			if c.Mode == "white" {
				if _, err := os.Stat(filepath.Join("testdata", "decoded", c.Image+".white.png")); err != nil {
					ref = "drop"
				}
			}
			src := pillowDecoded(t, c.Image, ref)
			tiles, layout := cfg.Tiles(src)
			if layout.Rows != c.Rows || layout.Cols != c.Cols || len(tiles) != c.Shape[0] {
				t.Fatalf("layout %+v with %d tiles, want %dx%d with %d", layout, len(tiles), c.Rows, c.Cols, c.Shape[0])
			}
			if got := cfg.PlanTiles(src.W, src.H); got != layout {
				t.Errorf("PlanTiles %+v, Tiles %+v", got, layout)
			}
			for i, f := range tiles {
				if shaHex(f.Pix) != c.Frames[i] {
					t.Errorf("tile %d (uint8) differs from Pillow", i)
				}
			}
			pv, mask := cfg.PixelValues(tiles)
			if len(pv) != c.Shape[0]*c.Shape[1]*c.Shape[2]*c.Shape[3] {
				t.Fatalf("len %d, want shape %v", len(pv), c.Shape)
			}
			T := c.Shape[2]
			last := pv[(c.Shape[0]-1)*3*T*T:]
			var sample []float32
			for ch := 0; ch < 3; ch++ {
				sample = append(sample, last[ch*T*T+256*T+250:ch*T*T+256*T+254]...)
			}
			if !reflect.DeepEqual(sample, c.Sample) {
				t.Errorf("global tile sample %v, want %v", sample, c.Sample)
			}
			if shaHex(f32Bytes(pv)) != c.SHA {
				t.Errorf("pixel_values differ from the reference")
			}
			for _, m := range mask {
				if !m {
					t.Fatal("pixel mask has a false value for a full tile")
				}
			}
		})
	}
}

// End to end: file bytes → DecodeImage → Document, against the goldens of both references.
func TestDocumentEndToEnd(t *testing.T) {
	p := newTestProcessor(t)
	in := documentFromFile(t, p, "page.png")
	checkDefaultPixelValues(t, "page", in)
	if len(in.Tiles) != 1 || in.Tiles[0] != (TileLayout{Rows: 4, Cols: 4, N: 17}) {
		t.Errorf("tiles %+v", in.Tiles)
	}
	text, _ := p.expandImages(p.DocumentPrompt(), in.Tiles)
	if in.Prompt != text || len(in.InputIDs) != len(p.Tok.Encode(text)) {
		t.Error("document prompt mismatch")
	}

	dir := filepath.Join(t.TempDir(), "inputs")
	if err := in.WriteNPY(dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		dtype string
		shape []int
	}{
		"input_ids":            {npy.Int64, []int{1, len(in.InputIDs)}},
		"attention_mask":       {npy.Int64, []int{1, len(in.InputIDs)}},
		"pixel_values":         {npy.Float32, []int{1, 17, 3, 512, 512}},
		"pixel_attention_mask": {npy.Bool, []int{1, 17, 512, 512}},
	} {
		a, err := npy.ReadFile(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if a.DType != want.dtype || !reflect.DeepEqual(a.Shape, want.shape) {
			t.Errorf("%s: %s %v, want %s %v", name, a.DType, a.Shape, want.dtype, want.shape)
		}
		if name == "input_ids" && !reflect.DeepEqual(a.I64, in.InputIDs) {
			t.Error("input_ids.npy content differs")
		}
	}
}

// A JPEG page straight from the file: the exact decoder plus the pipeline must give Pillow's pixel_values.
func TestDocumentFromJPEGFile(t *testing.T) {
	p := newTestProcessor(t)
	checkDefaultPixelValues(t, "jpeg_page", documentFromFile(t, p, "jpeg_page.jpg"))
}

// documentFromFile decodes testdata/images/name as the retriever does and makes its document inputs.
func documentFromFile(t *testing.T, p *Processor, name string) *Inputs {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	img, err := DecodeImage(data, AlphaDrop)
	if err != nil {
		t.Fatal(err)
	}
	in, err := p.Document(img)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// checkDefaultPixelValues compares in's pixel_values with the Pillow golden of image under the default
// processor configuration, which must exist.
func checkDefaultPixelValues(t *testing.T, image string, in *Inputs) {
	t.Helper()
	for _, c := range loadImageGoldens(t).PixelValues {
		if c.Image == image && c.Config == "{}" {
			if shaHex(f32Bytes(in.PixelValues)) != c.SHA {
				t.Errorf("%s: pixel_values differ from the Pillow reference", image)
			}
			return
		}
	}
	t.Fatalf("no golden for %s", image)
}

func TestChatSeveralImages(t *testing.T) {
	p := newTestProcessor(t)
	a := pillowDecoded(t, "wide", "drop")
	b := pillowDecoded(t, "rgba", "white")
	in, err := p.Chat([]*RGB{a, b}, "Compare them.")
	if err != nil {
		t.Fatal(err)
	}
	if in.NumTiles() != 5+13 || len(in.PixelValues) != 18*3*512*512 {
		t.Errorf("tiles %+v", in.Tiles)
	}
	if !strings.HasSuffix(in.Prompt, "<fake_token_around_image>Compare them.<end_of_utterance>\nAssistant:") {
		t.Errorf("prompt ends %q", in.Prompt[len(in.Prompt)-80:])
	}
	if _, err := p.Chat([]*RGB{a}, "what is <image>?"); err == nil {
		t.Error("question with <image> accepted")
	}
	q, err := p.Query("")
	if err != nil || len(q.InputIDs) != 10 {
		t.Errorf("empty query: %v %v", q, err)
	}
}

func TestLoadModelFilesErrors(t *testing.T) {
	dir := modelDir(t)
	mf, err := LoadModelFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mf.ImageSeqLen != 64 || mf.Image.TileSize() != 512 || mf.Image.Size.LongestEdge != 2048 ||
		mf.Tokenizer.EosToken != "<end_of_utterance>" || !strings.Contains(mf.Tokenizer.ChatTemplate, "Assistant:") {
		t.Errorf("unexpected values: %+v", mf)
	}
	cfg := `{"image_token_id": 49190, "text_config": {"eos_token_id": [2, 49279], "pad_token_id": 2}}`
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"eos_token_id": 49279, "bos_token_id": null}`), 0o644)
	mf, err = LoadModelFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mf.Config.TextConfig.EosTokenID, IDList{2, 49279}) || mf.Generation.EosTokenID.First(0) != 49279 {
		t.Errorf("ids: %+v %+v", mf.Config.TextConfig.EosTokenID, mf.Generation)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"image_token_id": 7}`), 0o644)
	if _, err := NewProcessor(dir); err == nil {
		t.Error("mismatching image_token_id accepted")
	}
	os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), []byte(`{"resample": 3}`), 0o644)
	if _, err := LoadModelFiles(dir); err == nil {
		t.Error("bicubic accepted")
	}
	os.Remove(filepath.Join(dir, "preprocessor_config.json"))
	if _, err := LoadModelFiles(dir); err == nil || !strings.Contains(err.Error(), "preprocessor_config.json") {
		t.Errorf("missing preprocessor_config.json: %v", err)
	}
}

func BenchmarkDocumentA4(b *testing.B) {
	p := newTestProcessor(b)
	src := pillowDecoded(b, "page", "drop")
	img := ResizeLanczos(src, 1654, 2339) // A4 at 200 dpi
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Document(img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
}

func TestBatchInputs(t *testing.T) {
	p := newTestProcessor(t)
	q1, _ := p.Query("a")
	q2, _ := p.Query("a much longer query text")
	doc, err := p.Document(pillowDecoded(t, "wide", "drop")) // 5 tiles
	if err != nil {
		t.Fatal(err)
	}
	b, err := BatchInputs([]*Inputs{q1, doc, q2}, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	if b.B != 3 || b.S != len(doc.InputIDs) || b.N != 5 || len(b.PixelValues) != 3*5*3*512*512 {
		t.Fatalf("shape B=%d S=%d N=%d", b.B, b.S, b.N)
	}
	pad := b.S - len(q1.InputIDs)
	if b.InputIDs[pad-1] != 2 || b.AttentionMask[pad-1] != 0 || b.InputIDs[pad] != q1.InputIDs[0] || b.AttentionMask[pad] != 1 {
		t.Error("left padding wrong")
	}
	T := 512 * 512
	if b.PixelMask[0] || !b.PixelMask[5*T] || b.PixelMask[10*T] {
		t.Error("pixel mask wrong: only the document's tiles are real")
	}
	if b.PixelValues[5*3*T] != doc.PixelValues[0] {
		t.Error("document pixels not in row 1")
	}
	r, _ := BatchInputs([]*Inputs{q1, q2}, 2, false)
	if r.PixelValues != nil || r.InputIDs[len(q1.InputIDs)] != 2 || r.InputIDs[0] != q1.InputIDs[0] {
		t.Error("right padding wrong")
	}
}
