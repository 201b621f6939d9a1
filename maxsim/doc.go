// Package maxsim scores late-interaction (ColBERT/ColPali-style) multi-vector documents against a
// multi-vector query: MaxSim(Q, D) = Σ_q max_d ⟨q, d⟩. It holds only kernels and pure functions;
// it does no I/O.
//
// # Basics
//
// Documents are stored as float16 ("half", IEEE 754 binary16) in dimension-major order: for a page of
// n vectors of dim dimensions, element (vector j, dimension k) sits at index k*n+j (see [EncodePage]).
// That layout lets a [Scorer] widen a page with one vector instruction per 8 values and feed it
// straight to a GEMM-like kernel that broadcasts query values and streams doc columns.
//
// Each vector also gets a 1-bit sign code (dim/64 uint64 words, 16 bytes at dim 128; see [SignCodes]),
// scored by [HammingScorer] for the cheap binary phases of a search; [SketchCodes] summarises a page's
// codes by at most 64 for a coarser phase in front of them.
//
// [PoolHierarchical] reduces a page's vectors by clustering (colpali-engine's HierarchicalTokenPooler).
//
// # Caveats
//
// Scores are float32 sums of float32 products of float16-rounded document values; they match a float64
// loop over the same float16 values within about 1e-6 relative. A [Scorer] is not safe for concurrent
// use; make one per goroutine.
package maxsim
