//go:build !amd64 || noasm

package maxsim

var useVPOPCNT = false

func sumMinHamming8x2(q *uint64, nq int, d *uint64, blocks int) int {
	panic("maxsim: vector popcount kernel not available")
}
