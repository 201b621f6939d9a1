package modelbuild

// quantizer emits the linear layers of a graph: float32 MatMul (+ bias) by default, or int8 weights with
// dynamically quantized activations when int8 is set, or 4-bit block-quantized weights when q4 is set. The retriever's 128-d projection and the generator's
// lm_head stay float32 (they are a small share of the work and the outputs are most sensitive there).
type quantizer struct {
	int8 bool
	q4   bool
}

// fp32 is a quantizer that never quantizes.
var fp32 = &quantizer{}

// linear emits x·wT (+ bias), where wT is the [in, out] transpose of an nn.Linear weight.
func (q *quantizer) linear(g *graph, x, name string, in, out int64, wT, bias []float32) string {
	var y string
	switch {
	case q != nil && q.q4:
		y = q.q4Linear(g, x, name, in, out, wT)
	case q != nil && q.int8:
		return q.int8LinearBias(g, x, name, in, out, wT, bias)
	default:
		y = g.matmul(x, g.initializer(name+".weight_t", []int64{in, out}, wT))
	}
	if bias != nil {
		y = g.add(y, g.initializer(name+".bias", []int64{out}, bias))
	}
	return y
}

// fusedAttention reports whether attention is emitted as ONNX Runtime's MultiHeadAttention operator rather than
// as standard MatMul/Softmax nodes. Only int8 graphs use it: the float32 graphs keep standard operators (and
// their bytes), while in int8 graphs the attention products would otherwise take over half the time.
func (q *quantizer) fusedAttention() bool {
	return q != nil && q.int8
}
