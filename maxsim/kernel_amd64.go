//go:build amd64 && !noasm

package maxsim

import "golang.org/x/sys/cpu"

// The blocked kernel is written in assembly because no maintained Go library offers a fused
// "GEMM then row max" for small matrices: vek's MatMul is an axpy loop that stores the whole
// similarity row for every dimension (load/store bound, about 26 GFLOP/s per core here), while this
// kernel keeps a 4×24 block in registers (compute bound). vek stays the portable path.
var useBlocked = useF16C && cpu.X86.HasFMA && cpu.X86.HasAVX2

// useWide picks the AVX-512 form of the blocked kernel (4×48 blocks).
var useWide = useBlocked && cpu.X86.HasAVX512F

//go:noescape
func maxBlock4x48(q *float32, qstride uintptr, d *float32, panels int, dim int, out *[64]float32)

//go:noescape
func packPanels48(dst *float32, src *uint16, n int, dim int, panels int)

//go:noescape
func maxBlock4x24(q *float32, qstride uintptr, d *float32, panels int, dim int, out *[32]float32)

//go:noescape
func packPanels(dst *float32, src *uint16, n int, dim int, panels int)
