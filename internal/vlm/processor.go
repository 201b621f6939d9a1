package vlm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/colsmol/colsmol/internal/npy"
)

// ModelFiles holds the configuration files of a model folder in the Hugging Face layout.
type ModelFiles struct {
	Dir          string
	Config       ModelConfig       // config.json (zero if the file is absent)
	Image        ImageConfig       // preprocessor_config.json (required)
	ImageSeqLen  int               // processor_config.json image_seq_len (64 if absent)
	Tokenizer    TokenizerConfig   // tokenizer_config.json (zero if absent)
	Generation   *GenerationConfig // generation_config.json, nil if absent
	HasConfig    bool              // config.json was present
	RawConfigMap map[string]any    // config.json as parsed JSON, for keys not modelled here
}

// ModelConfig is the part of an Idefics3 / SmolVLM config.json the engine reads.
type ModelConfig struct {
	ModelType     string   `json:"model_type"`
	Architectures []string `json:"architectures"`
	ImageTokenID  int64    `json:"image_token_id"`
	ScaleFactor   int      `json:"scale_factor"`
	VocabSize     int      `json:"vocab_size"`
	TextConfig    struct {
		ModelType             string  `json:"model_type"`
		HiddenSize            int     `json:"hidden_size"`
		IntermediateSize      int     `json:"intermediate_size"`
		NumHiddenLayers       int     `json:"num_hidden_layers"`
		NumAttentionHeads     int     `json:"num_attention_heads"`
		NumKeyValueHeads      int     `json:"num_key_value_heads"`
		HeadDim               int     `json:"head_dim"`
		VocabSize             int     `json:"vocab_size"`
		RopeTheta             float64 `json:"rope_theta"`
		RMSNormEps            float64 `json:"rms_norm_eps"`
		MaxPositionEmbeddings int     `json:"max_position_embeddings"`
		BosTokenID            IDList  `json:"bos_token_id"`
		EosTokenID            IDList  `json:"eos_token_id"`
		PadTokenID            IDList  `json:"pad_token_id"`
	} `json:"text_config"`
	VisionConfig struct {
		HiddenSize      int `json:"hidden_size"`
		ImageSize       int `json:"image_size"`
		PatchSize       int `json:"patch_size"`
		NumHiddenLayers int `json:"num_hidden_layers"`
	} `json:"vision_config"`
}

// GenerationConfig is the part of generation_config.json a generator reads.
type GenerationConfig struct {
	BosTokenID        IDList  `json:"bos_token_id"`
	EosTokenID        IDList  `json:"eos_token_id"`
	PadTokenID        IDList  `json:"pad_token_id"`
	MaxLength         int     `json:"max_length"`
	MaxNewTokens      int     `json:"max_new_tokens"`
	DoSample          bool    `json:"do_sample"`
	Temperature       float64 `json:"temperature"`
	TopP              float64 `json:"top_p"`
	TopK              int     `json:"top_k"`
	RepetitionPenalty float64 `json:"repetition_penalty"`
}

// IDList is a token id field that may be a number, a list of numbers or null in the JSON.
type IDList []int64

// UnmarshalJSON implements json.Unmarshaler.
func (l *IDList) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*l = nil
		return nil
	}
	if strings.HasPrefix(s, "[") {
		var v []int64
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*l = v
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("token id %s is not an integer", s)
	}
	*l = IDList{v}
	return nil
}

// First returns the first id, or def when the list is empty.
func (l IDList) First(def int64) int64 {
	if len(l) == 0 {
		return def
	}
	return l[0]
}

// TokenizerConfig is the part of tokenizer_config.json the engine reads. Token fields accept either a string
// or an object with "content".
type TokenizerConfig struct {
	BosToken     tokenString `json:"bos_token"`
	EosToken     tokenString `json:"eos_token"`
	PadToken     tokenString `json:"pad_token"`
	UnkToken     tokenString `json:"unk_token"`
	ChatTemplate string      `json:"-"`
	PaddingSide  string      `json:"padding_side"`
}

type tokenString string

func (t *tokenString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = tokenString(s)
		return nil
	}
	var o struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return nil // null or unexpected shape: leave empty
	}
	*t = tokenString(o.Content)
	return nil
}

// LoadModelFiles reads the configuration files of a model folder: preprocessor_config.json is required;
// config.json, processor_config.json, tokenizer_config.json (or chat_template.json) and generation_config.json
// are read when present.
func LoadModelFiles(dir string) (*ModelFiles, error) {
	mf := &ModelFiles{Dir: dir, ImageSeqLen: 64}
	read := func(name string) ([]byte, bool, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("model folder %s: %w", dir, err)
		}
		return b, true, nil
	}
	b, ok, err := read("preprocessor_config.json")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("model folder %s has no preprocessor_config.json; is it a SmolVLM/colSmol model folder?", dir)
	}
	if mf.Image, err = ParseImageConfig(b); err != nil {
		return nil, fmt.Errorf("model folder %s: %w", dir, err)
	}
	if b, ok, err = read("config.json"); err != nil {
		return nil, err
	} else if ok {
		if err := json.Unmarshal(b, &mf.Config); err != nil {
			return nil, fmt.Errorf("model folder %s: config.json: %w", dir, err)
		}
		if err := json.Unmarshal(b, &mf.RawConfigMap); err != nil {
			return nil, fmt.Errorf("model folder %s: config.json: %w", dir, err)
		}
		mf.HasConfig = true
	}
	if b, ok, err = read("processor_config.json"); err != nil {
		return nil, err
	} else if ok {
		var pc struct {
			ImageSeqLen *int `json:"image_seq_len"`
		}
		if err := json.Unmarshal(b, &pc); err != nil {
			return nil, fmt.Errorf("model folder %s: processor_config.json: %w", dir, err)
		}
		if pc.ImageSeqLen != nil {
			mf.ImageSeqLen = *pc.ImageSeqLen
		}
	}
	if mf.ImageSeqLen <= 0 {
		return nil, fmt.Errorf("model folder %s: image_seq_len %d must be positive", dir, mf.ImageSeqLen)
	}
	if b, ok, err = read("tokenizer_config.json"); err != nil {
		return nil, err
	} else if ok {
		if err := json.Unmarshal(b, &mf.Tokenizer); err != nil {
			return nil, fmt.Errorf("model folder %s: tokenizer_config.json: %w", dir, err)
		}
		var ct struct {
			ChatTemplate json.RawMessage `json:"chat_template"`
		}
		_ = json.Unmarshal(b, &ct)
		_ = json.Unmarshal(ct.ChatTemplate, &mf.Tokenizer.ChatTemplate)
	}
	if b, ok, err = read("chat_template.json"); err != nil {
		return nil, err
	} else if ok && mf.Tokenizer.ChatTemplate == "" {
		var ct struct {
			ChatTemplate string `json:"chat_template"`
		}
		if err := json.Unmarshal(b, &ct); err == nil {
			mf.Tokenizer.ChatTemplate = ct.ChatTemplate
		}
	}
	if b, ok, err = read("generation_config.json"); err != nil {
		return nil, err
	} else if ok {
		mf.Generation = &GenerationConfig{}
		if err := json.Unmarshal(b, mf.Generation); err != nil {
			return nil, fmt.Errorf("model folder %s: generation_config.json: %w", dir, err)
		}
	}
	return mf, nil
}

// PromptStyle selects the ColIdefics3 prompt formats.
type PromptStyle int

const (
	// PromptCurrent is current colpali-engine (since d29e228, 2025-06): document
	// "<|im_start|>User:<image>Describe the image.<end_of_utterance>\nAssistant:", query
	// q + "<end_of_utterance>"×10.
	PromptCurrent PromptStyle = iota
	// PromptLegacy is colpali-engine b983e40 (2025-01), the commit colSmol was trained with: document
	// "<|im_start|>User: Describe the image.<image><end_of_utterance>", query
	// "Query: " + q + "<end_of_utterance>"×10 + "\n".
	PromptLegacy
)

// Special token strings of the SmolVLM tokenizer.
const (
	TokImage          = "<image>"
	TokFakeAround     = "<fake_token_around_image>"
	TokGlobalImage    = "<global-img>"
	TokEndOfUtterance = "<end_of_utterance>"
	TokImStart        = "<|im_start|>"
	queryAugmentation = 10
)

// Processor turns images and text into model inputs exactly as the Python processors do (transformers'
// Idefics3Processor, colpali-engine's ColIdefics3Processor).
type Processor struct {
	Tok    *Tokenizer
	Files  *ModelFiles
	Image  ImageConfig
	SeqLen int // <image> tokens per tile (image_seq_len)
	// Prompts selects the ColIdefics3 document/query formats (PromptCurrent by default).
	Prompts      PromptStyle
	imageTokenID int64
}

// NewProcessor builds a processor from a model folder (tokenizer.json plus the files LoadModelFiles reads).
func NewProcessor(dir string) (*Processor, error) {
	mf, err := LoadModelFiles(dir)
	if err != nil {
		return nil, err
	}
	tok, err := LoadTokenizer(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	return NewProcessorFrom(mf, tok)
}

// NewProcessorFrom builds a processor from already loaded files.
func NewProcessorFrom(mf *ModelFiles, tok *Tokenizer) (*Processor, error) {
	p := &Processor{Tok: tok, Files: mf, Image: mf.Image, SeqLen: mf.ImageSeqLen}
	id, ok := tok.TokenID(TokImage)
	if !ok {
		return nil, fmt.Errorf("tokenizer of %s has no %s token; not a SmolVLM tokenizer", mf.Dir, TokImage)
	}
	if mf.HasConfig && mf.Config.ImageTokenID != 0 && mf.Config.ImageTokenID != id {
		return nil, fmt.Errorf("config.json image_token_id %d differs from the tokenizer's %s id %d", mf.Config.ImageTokenID, TokImage, id)
	}
	p.imageTokenID = id
	for _, s := range []string{TokFakeAround, TokGlobalImage, TokEndOfUtterance} {
		if _, ok := tok.TokenID(s); !ok {
			return nil, fmt.Errorf("tokenizer of %s has no %s token; not a SmolVLM tokenizer", mf.Dir, s)
		}
	}
	return p, nil
}

// ImageTokenID returns the id of <image>.
func (p *Processor) ImageTokenID() int64 { return p.imageTokenID }

// Inputs are the tensors for one sequence (batch size 1).
type Inputs struct {
	InputIDs      []int64      // [S]
	AttentionMask []int64      // [S], all ones
	PixelValues   []float32    // [N,3,T,T], nil for text only
	PixelMask     []bool       // [N,T,T]
	Tiles         []TileLayout // one per image, in order
	TileSize      int          // T (512)
	Prompt        string       // the text that was tokenised, with images expanded
}

// NumTiles returns N, the number of tiles of all images together.
func (in *Inputs) NumTiles() int {
	n := 0
	for _, t := range in.Tiles {
		n += t.N
	}
	return n
}

// ImagePromptString returns the text that replaces one <image> for an image of the given layout
// (transformers' get_image_prompt_string).
func (p *Processor) ImagePromptString(t TileLayout) string {
	img := strings.Repeat(TokImage, p.SeqLen)
	var sb strings.Builder
	if t.Rows == 0 && t.Cols == 0 {
		sb.WriteString(TokFakeAround + TokGlobalImage + img + TokFakeAround)
		return sb.String()
	}
	for r := 1; r <= t.Rows; r++ {
		for c := 1; c <= t.Cols; c++ {
			fmt.Fprintf(&sb, "%s<row_%d_col_%d>%s", TokFakeAround, r, c, img)
		}
		sb.WriteString("\n")
	}
	sb.WriteString("\n" + TokFakeAround + TokGlobalImage + img + TokFakeAround)
	return sb.String()
}

// expandImages replaces each <image> of text, in order, by the prompt string of the matching layout.
func (p *Processor) expandImages(text string, layouts []TileLayout) (string, error) {
	parts := strings.Split(text, TokImage)
	if len(parts)-1 != len(layouts) {
		return "", fmt.Errorf("prompt has %d %s markers but %d images were given", len(parts)-1, TokImage, len(layouts))
	}
	var sb strings.Builder
	sb.WriteString(parts[0])
	for i, l := range layouts {
		sb.WriteString(p.ImagePromptString(l))
		sb.WriteString(parts[i+1])
	}
	return sb.String(), nil
}

// build preprocesses images, expands and tokenises the prompt.
func (p *Processor) build(prompt string, images []*RGB) (*Inputs, error) {
	in := &Inputs{TileSize: p.Image.TileSize()}
	var tiles []*RGB
	for i, img := range images {
		if img == nil || img.W <= 0 || img.H <= 0 {
			return nil, fmt.Errorf("image %d is empty", i+1)
		}
		t, layout := p.Image.Tiles(img)
		tiles = append(tiles, t...)
		in.Tiles = append(in.Tiles, layout)
	}
	text, err := p.expandImages(prompt, in.Tiles)
	if err != nil {
		return nil, err
	}
	in.Prompt = text
	in.InputIDs = p.Tok.Encode(text)
	in.AttentionMask = make([]int64, len(in.InputIDs))
	for i := range in.AttentionMask {
		in.AttentionMask[i] = 1
	}
	if len(tiles) > 0 {
		in.PixelValues, in.PixelMask = p.Image.PixelValues(tiles)
	}
	n := 0
	for _, id := range in.InputIDs {
		if id == p.imageTokenID {
			n++
		}
	}
	if n != p.SeqLen*len(tiles) {
		return nil, fmt.Errorf("prompt has %d %s tokens, want %d (%d tiles × %d); does the text contain %s itself?",
			n, TokImage, p.SeqLen*len(tiles), len(tiles), p.SeqLen, TokImage)
	}
	return in, nil
}

// DocumentPrompt returns the ColIdefics3 document prompt before image expansion.
func (p *Processor) DocumentPrompt() string {
	if p.Prompts == PromptLegacy {
		return TokImStart + "User: Describe the image." + TokImage + TokEndOfUtterance
	}
	return TokImStart + "User:" + TokImage + "Describe the image." + TokEndOfUtterance + "\nAssistant:"
}

// QueryPrompt returns the ColIdefics3 query text for q.
func (p *Processor) QueryPrompt(q string) string {
	suffix := strings.Repeat(TokEndOfUtterance, queryAugmentation)
	if p.Prompts == PromptLegacy {
		return "Query: " + q + suffix + "\n"
	}
	return q + suffix
}

// Document builds the retriever inputs for one page image (decode it with AlphaDrop, as colpali-engine does).
func (p *Processor) Document(img *RGB) (*Inputs, error) {
	return p.build(p.DocumentPrompt(), []*RGB{img})
}

// Query builds the retriever inputs for a text query (no image).
func (p *Processor) Query(q string) (*Inputs, error) {
	if strings.Contains(q, TokImage) {
		return nil, fmt.Errorf("query contains %s; remove it", TokImage)
	}
	return p.build(p.QueryPrompt(q), nil)
}

// ChatPrompt renders the SmolVLM chat template for one user turn holding nImages images followed by the
// question, with the generation prompt: "<|im_start|>User:<image>…question<end_of_utterance>\nAssistant:"
// (": " instead of ":" when there is no image, as the template does for a text first item).
func ChatPrompt(nImages int, question string) string {
	var sb strings.Builder
	sb.WriteString(TokImStart + "User")
	if nImages > 0 {
		sb.WriteString(":")
	} else {
		sb.WriteString(": ")
	}
	for i := 0; i < nImages; i++ {
		sb.WriteString(TokImage)
	}
	sb.WriteString(question)
	sb.WriteString(TokEndOfUtterance + "\nAssistant:")
	return sb.String()
}

// Chat builds the generator inputs for a question about zero or more images (decode them with AlphaWhite, as
// transformers' processor does).
func (p *Processor) Chat(images []*RGB, question string) (*Inputs, error) {
	if strings.Contains(question, TokImage) {
		return nil, fmt.Errorf("question contains %s; remove it", TokImage)
	}
	return p.build(ChatPrompt(len(images), question), images)
}

// WriteNPY writes the inputs as NumPy files into dir (created if needed), in the layout of interfaces.md:
// input_ids.npy and attention_mask.npy int64 [1,S]; with images, pixel_values.npy float32 [1,N,3,T,T] and
// pixel_attention_mask.npy bool [1,N,T,T].
func (in *Inputs) WriteNPY(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write inputs: %w", err)
	}
	s := len(in.InputIDs)
	files := []struct {
		name string
		a    *npy.Array
	}{
		{"input_ids.npy", npy.I64Array([]int{1, s}, in.InputIDs)},
		{"attention_mask.npy", npy.I64Array([]int{1, s}, in.AttentionMask)},
	}
	if in.PixelValues != nil {
		n, t := in.NumTiles(), in.TileSize
		files = append(files,
			struct {
				name string
				a    *npy.Array
			}{"pixel_values.npy", npy.F32Array([]int{1, n, 3, t, t}, in.PixelValues)},
			struct {
				name string
				a    *npy.Array
			}{"pixel_attention_mask.npy", npy.BoolArray([]int{1, n, t, t}, in.PixelMask)})
	}
	for _, f := range files {
		if err := npy.WriteFile(filepath.Join(dir, f.name), f.a); err != nil {
			return fmt.Errorf("write inputs: %w", err)
		}
	}
	return nil
}

// Batch is several Inputs padded to one shape, as the Python processors return them with padding="longest".
type Batch struct {
	B, S, N, TileSize int
	InputIDs          []int64   // [B,S]
	AttentionMask     []int64   // [B,S], 0 on padding
	PixelValues       []float32 // [B,N,3,T,T], nil when no sequence has images; padding tiles are zeros
	PixelMask         []bool    // [B,N,T,T], false on padding tiles
}

// BatchInputs pads sequences with padID (2, <|im_end|>, for SmolVLM) on the left (colpali-engine) or the right,
// and pads the tile dimension with all-zero tiles whose mask is false (transformers' Idefics3 do_pad).
func BatchInputs(ins []*Inputs, padID int64, padLeft bool) (*Batch, error) {
	if len(ins) == 0 {
		return nil, errors.New("batch: no inputs")
	}
	b := &Batch{B: len(ins)}
	for _, in := range ins {
		b.S = max(b.S, len(in.InputIDs))
		if in.PixelValues != nil {
			b.N = max(b.N, in.NumTiles())
			if b.TileSize != 0 && b.TileSize != in.TileSize {
				return nil, fmt.Errorf("batch: tile sizes %d and %d differ", b.TileSize, in.TileSize)
			}
			b.TileSize = in.TileSize
		}
	}
	b.InputIDs = make([]int64, b.B*b.S)
	b.AttentionMask = make([]int64, b.B*b.S)
	t := b.TileSize
	if b.N > 0 {
		b.PixelValues = make([]float32, b.B*b.N*3*t*t)
		b.PixelMask = make([]bool, b.B*b.N*t*t)
	}
	for i, in := range ins {
		row := b.InputIDs[i*b.S : (i+1)*b.S]
		mask := b.AttentionMask[i*b.S : (i+1)*b.S]
		off := 0
		if padLeft {
			off = b.S - len(in.InputIDs)
		}
		for j := range row {
			row[j] = padID
		}
		copy(row[off:], in.InputIDs)
		copy(mask[off:], in.AttentionMask)
		if in.PixelValues != nil {
			copy(b.PixelValues[i*b.N*3*t*t:], in.PixelValues)
			copy(b.PixelMask[i*b.N*t*t:], in.PixelMask)
		}
	}
	return b, nil
}
