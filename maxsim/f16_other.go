//go:build !amd64 || noasm

package maxsim

var useF16C = false

func decodeF16C(dst []float32, src []uint16) { decodeTable(dst, src) }
