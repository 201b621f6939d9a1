//go:build amd64 && !noasm

package maxsim

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The popcount kernel is assembly for the same reason as the float kernel: Go has no vector
// popcount, and math/bits.OnesCount64 costs about 1.5 ns per 128-bit pair here, which makes the
// binary first phase only twice as fast as exact scoring. VPOPCNTQ handles 8 pairs per instruction.
var useVPOPCNT = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VPOPCNTDQ

// sumMinHamming8x2 returns Σ over the nq two-word query codes at q of the least Hamming distance to
// any code of the blocks packed blocks at d (16 little-endian words each; d need not be aligned).
//
//go:noescape
func sumMinHamming8x2(q *uint64, nq int, d unsafe.Pointer, blocks int) int
