// Package index is colsmol's page index: one bbolt file holding documents, their pages (size, tile
// layout, JPEG thumbnail and preview, image-token positions) and each page's vectors, plus the
// MaxSim search over them.
//
// # Basics
//
// [Open] creates the file and its buckets. [Store.Put] writes a document and all its pages in one
// transaction, replacing any document with the same path, so a crash at any moment leaves each document
// whole or absent; [Store.Relocate] moves a document to a new path (or refreshes its record) the same
// way, and [Store.Delete] removes one. [Store.ByPath] and [Store.BySHA] serve incremental indexing.
//
// [Store.Search] ranks pages by MaxSim: by default a binary first phase over the sign codes of every
// page, held in memory (loaded on the first search, then kept current by this Store's writes), then
// exact scoring of the best [SearchOptions.Rerank] candidates from the float16 vectors read straight
// from the file's memory map; [SearchOptions.Exact] scores every page exactly. Searches may run from
// many goroutines while one writes. [Store.Stats] reports sizes and the resident memory of the codes.
//
// Key layout (all in one file, schema version in bucket "meta"):
//
//	docs      id → JSON document record
//	paths     path → id
//	shas      sha256 + "\x00" + id → (empty)
//	pages     id + uint32 BE page index → JSON page record
//	thumbs    page key → JPEG thumbnail
//	previews  page key → JPEG preview
//	vectors   page key → float16, little-endian, dimension-major (maxsim.EncodePage)
//	codes     page key → vector count, then sign codes packed as maxsim.PackCodes, uint64 little-endian
//
// # Caveats
//
// One process at a time may open the file for writing; another gets an error after [Options.Timeout].
// Vectors are read from the memory map without copying on little-endian machines only; elsewhere they
// are copied. Scores are float32.
package index
