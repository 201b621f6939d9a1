//go:build !amd64 || noasm

package maxsim

var useBlocked = false

func maxBlock4x24(q *float32, qstride uintptr, d *float32, panels int, dim int, out *[32]float32) {
	panic("maxsim: blocked kernel not available")
}

func packPanels(dst *float32, src *uint16, n int, dim int, panels int) {
	panic("maxsim: blocked kernel not available")
}

var useWide = false

func maxBlock4x48(q *float32, qstride uintptr, d *float32, panels int, dim int, out *[64]float32) {
	panic("maxsim: blocked kernel not available")
}

func packPanels48(dst *float32, src *uint16, n int, dim int, panels int) {
	panic("maxsim: blocked kernel not available")
}
