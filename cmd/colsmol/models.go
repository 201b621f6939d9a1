package main

import (
	"github.com/colsmol/colsmol/embed"
	"github.com/colsmol/colsmol/internal/ort"
)

// openEmbedder resolves --model (pulling or converting it when needed), loads ONNX Runtime and opens the
// retriever with the global thread and device settings. It also returns the model folder. Errors exit with
// status 3.
func openEmbedder(g *globalOptions) (*embed.Embedder, string, error) {
	dir, err := resolveModel(g, g.model, roleRetriever)
	if err != nil {
		return nil, "", fatal(err)
	}
	if _, err := ort.Init(g.ortLib); err != nil {
		return nil, "", fatal(err)
	}
	em, err := embed.Open(dir, embed.Options{Threads: g.threads, Device: g.device})
	if err != nil {
		return nil, "", fatal(err)
	}
	return em, dir, nil
}
