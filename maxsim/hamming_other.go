//go:build !amd64 || noasm

package maxsim

import "unsafe"

var useVPOPCNT = false

func sumMinHamming8x2(q *uint64, nq int, d unsafe.Pointer, blocks int) int {
	panic("maxsim: vector popcount kernel not available")
}
