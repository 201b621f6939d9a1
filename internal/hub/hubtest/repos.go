package hubtest

import "fmt"

// Commits of the fake registry repositories.
const (
	SmolVLMCommit = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
	BaseCommit    = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
	AdapterCommit = "adadadadadadadadadadadadadadadadadadadad"
	ReexCommit    = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
)

// fill returns n bytes that say what they stand for, so a test can tell files apart.
func fill(name string, n int) []byte {
	b := make([]byte, n)
	s := []byte(name + ";")
	for i := range b {
		b[i] = s[i%len(s)]
	}
	return b
}

// SmolVLMRepo is a small stand-in for HuggingFaceTB/SmolVLM-*-Instruct with the file names of the official
// ONNX export (research/models.md §7.1): three graphs in eight variants each, and the repository's configs.
func SmolVLMRepo(id string) *Repo {
	files := map[string][]byte{}
	for _, f := range []string{"config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json",
		"chat_template.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt"} {
		files[f] = []byte(fmt.Sprintf(`{"file":%q}`, f))
	}
	files["tokenizer.json"] = fill(id+"/tokenizer.json", 3000)
	files["model.safetensors"] = fill(id+"/model.safetensors", 5000)
	for _, g := range []string{"vision_encoder", "embed_tokens", "decoder_model_merged"} {
		for _, v := range []string{"", "_fp16", "_q4", "_q4f16", "_bnb4", "_int8", "_uint8", "_quantized"} {
			name := "onnx/" + g + v + ".onnx"
			files[name] = fill(id+"/"+name, 2000+len(name))
		}
	}
	return &Repo{ID: id, Commit: SmolVLMCommit, Files: files}
}

// ColSmolRepos are stand-ins for vidore/ColSmolVLM-Instruct-256M-base (full weights and processor files),
// vidore/colSmol-256M (the PEFT LoRA adapter, plus a stray model.safetensors as at some revisions) and the
// single-graph re-export guyettinger/colSmol-256M-dynamic-onnx.
func ColSmolRepos() []*Repo {
	base := map[string][]byte{}
	for _, f := range []string{"config.json", "preprocessor_config.json", "processor_config.json", "tokenizer_config.json",
		"special_tokens_map.json", "added_tokens.json", "generation_config.json", "chat_template.json", "vocab.json", "merges.txt"} {
		base[f] = []byte(fmt.Sprintf(`{"base":%q}`, f))
	}
	base["tokenizer.json"] = fill("base/tokenizer.json", 3000)
	base["model.safetensors"] = fill("base/model.safetensors", 6000)
	base["README.md"] = []byte("# base\n")
	adapter := map[string][]byte{
		"adapter_config.json":       []byte(`{"peft_type":"LORA","r":32,"lora_alpha":32}`),
		"adapter_model.safetensors": fill("adapter/adapter_model.safetensors", 4000),
		"model.safetensors":         fill("adapter/model.safetensors", 7000),
		"README.md":                 []byte("# adapter\n"),
	}
	reex := map[string][]byte{
		"model.onnx":     fill("reexport/model.onnx", 8000),
		"tokenizer.json": fill("reexport/tokenizer.json", 3000),
		"config.json":    []byte(`{"reexport":true}`),
	}
	return []*Repo{
		{ID: "vidore/ColSmolVLM-Instruct-256M-base", Commit: BaseCommit, Files: base},
		{ID: "vidore/colSmol-256M", Commit: AdapterCommit, Files: adapter},
		{ID: "guyettinger/colSmol-256M-dynamic-onnx", Commit: ReexCommit, Files: reex},
	}
}
