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
// [Store.Search] ranks pages by MaxSim, by default in three phases: binary MaxSim over every page's
// sketch (at most 64 sign codes, maxsim.SketchCodes), held in memory (loaded on the first search, then
// kept current by this Store's writes), picks [SearchOptions.Candidates] pages; binary MaxSim over
// their full sign codes, read in place from the file's memory map, keeps [SearchOptions.Rerank]; exact
// MaxSim over their float16 vectors, also read from the memory map, ranks those. Small indexes skip the
// sketch phase; [SearchOptions.Exact] scores every page exactly. Searches may run from many goroutines
// while one writes. [Store.Stats] reports sizes and the resident memory of the sketches.
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
//	sketches  page key → the same layout for the page's sketch (maxsim.SketchCodes; schema 3)
//
// # Caveats
//
// One process at a time may open the file for writing; another gets an error after [Options.Timeout].
// Vectors are read from the memory map without copying on little-endian machines only; elsewhere they
// are copied. Scores are float32.
package index
