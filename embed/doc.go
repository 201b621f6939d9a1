// Package embed turns page images and query texts into ColSmolVLM multi-vectors ([L][128]float32), as
// colpali-engine's ColIdefics3 computes them: last hidden state, linear projection to 128, L2
// normalisation, times the attention mask, one vector per input position.
//
// # Basics
//
// [Open] loads a model folder in either layout of the model-folder contract, detected from its onnx/
// folder:
//   - split: vision_encoder.onnx (tiles to image features), embed_tokens.onnx (ids to embeddings) and
//     text_embeddings.onnx (embeddings to projected, normalised vectors). The image features replace the
//     embeddings of the <image> tokens in order; queries skip the vision graph.
//   - single graph: model.onnx with input_ids, attention_mask, pixel_values, pixel_attention_mask in and
//     embeddings out.
//
// Model inputs (prompt, tokens, tiles) come from internal/vlm's Processor. One [Embedder] serves
// concurrent callers: one page at a time runs the graphs while other callers may prepare their next page,
// so memory stays bounded by one page's tiles per caller (about 53 MB of pixels for a 17-tile page);
// queries run at once.
//
// # Caveats
//
// Pages are grouped for the text graph only when their token sequences have the same length, so no page
// is ever padded; queries are left-padded with the pad token and masked, and their vectors at pad
// positions are dropped. The vision graph runs a few tiles per call (one by default, which measured
// faster on a 2-core CPU than all tiles in one batch).
package embed
