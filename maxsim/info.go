package maxsim

import "fmt"

// Kernels says which kernels this process uses, for logs and benchmark headers.
func Kernels() string {
	exact, binary, widen := "vek MatMul", "math/bits popcount", "lookup table"
	if useBlocked {
		exact = "AVX2/FMA 4×24 assembly"
	}
	if useWide {
		exact = "AVX-512 4×48 assembly"
	}
	if useVPOPCNT {
		binary = "AVX-512 VPOPCNTQ assembly"
	}
	if useF16C {
		widen = "F16C"
	}
	return fmt.Sprintf("exact: %s; binary: %s; float16 widening: %s", exact, binary, widen)
}
