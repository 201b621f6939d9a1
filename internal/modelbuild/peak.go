package modelbuild

import (
	"fmt"
	"math/rand"
)

// WriteMatMulGraph writes a graph computing Y = A·W for an input A of shape [n, n] and a constant [n, n]
// weight W, in the given precision: "fp32" (a plain MatMul) or "int8" (the DynamicQuantizeMatMul that the
// builder's int8 graphs use). Benchmarks run it to measure ONNX Runtime's peak rate next to a model's, in the
// same process; it performs 2·n³ operations per run.
func WriteMatMulGraph(path string, n int, precision string) error {
	r := rand.New(rand.NewSource(1))
	w := make([]float32, n*n)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	g := newGraph("matmul_" + precision)
	a := g.input("A", tFloat, n, n)
	var y string
	switch precision {
	case "fp32":
		y = g.matmul(a, g.initializer("W", []int64{int64(n), int64(n)}, w))
	case "int8":
		y = (&quantizer{int8: true}).int8Linear(g, a, "W", int64(n), int64(n), w)
	default:
		return fmt.Errorf("matmul graph: precision %q: use fp32 or int8", precision)
	}
	g.output("Y", y, tFloat, n, n)
	return g.save(path)
}
