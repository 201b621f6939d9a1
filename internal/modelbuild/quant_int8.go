package modelbuild

import "math"

// int8Linear emits x·wT through ONNX Runtime's DynamicQuantizeMatMul (com.microsoft): the weights are stored
// as int8 with one symmetric scale per output column, the activations are quantized to uint8 per call
// (per tensor, with a zero point), and the product is accumulated in int32 and rescaled to float32. On CPUs
// with AVX-512 VNNI (or AVX-VNNI) this runs the u8·s8 dot-product instructions.
func (q *quantizer) int8Linear(g *graph, x, name string, in, out int64, wT []float32) string {
	return q.int8LinearBias(g, x, name, in, out, wT, nil)
}

// int8LinearBias is int8Linear plus a bias, when one is given, added inside the operator (its optional fifth
// input) rather than by a separate Add node.
func (q *quantizer) int8LinearBias(g *graph, x, name string, in, out int64, wT, bias []float32) string {
	scales := make([]float32, out)
	for o := int64(0); o < out; o++ {
		var m float64
		for k := int64(0); k < in; k++ {
			m = math.Max(m, math.Abs(float64(wT[k*out+o])))
		}
		if m == 0 {
			m = 1
		}
		scales[o] = float32(m / 127)
	}
	raw := make([]byte, len(wT))
	for k := int64(0); k < in; k++ {
		for o := int64(0); o < out; o++ {
			v := math.RoundToEven(float64(wT[k*out+o]) / float64(scales[o]))
			raw[k*out+o] = byte(int8(math.Max(-127, math.Min(127, v))))
		}
	}
	wq := g.rawInitializer(name+".weight_t_int8", tInt8, []int64{in, out}, raw)
	ws := g.initializer(name+".weight_scale", []int64{out}, scales)
	inputs := []string{x, wq, ws}
	if bias != nil {
		inputs = append(inputs, "", g.initializer(name+".bias", []int64{out}, bias))
	}
	return g.msOp("DynamicQuantizeMatMul", inputs)
}
