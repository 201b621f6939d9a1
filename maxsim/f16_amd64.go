//go:build amd64 && !noasm

package maxsim

import "golang.org/x/sys/cpu"

var useF16C = cpu.X86.HasAVX && cpu.X86.HasAVX2 && hasF16C()

// decodeF16C widens len(src) half values (a multiple of 8) into dst with VCVTPH2PS.
//
//go:noescape
func decodeF16C(dst []float32, src []uint16)

// cpuidF16C reports bit 29 of CPUID.1:ECX (F16C), which x/sys/cpu does not expose.
func cpuidF16C() uint32

func hasF16C() bool { return cpuidF16C() != 0 }
