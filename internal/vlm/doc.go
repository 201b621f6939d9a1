// Package vlm builds the inputs of the ColSmolVLM retriever and the SmolVLM generator exactly as the Python
// processors do: image decoding with Pillow's pixel values (DecodeImage, ToRGB), Pillow-exact LANCZOS
// resizing (ResizeLanczos), Idefics3 tiling, rescaling and normalisation (ImageConfig), the prompts of
// colpali-engine and the SmolVLM chat template, and the byte-level BPE tokenizer of tokenizer.json
// (Tokenizer). Processor ties them together for a model folder and returns Inputs. See README.md for the
// measured exactness.
package vlm
