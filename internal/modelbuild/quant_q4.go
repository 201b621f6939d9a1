package modelbuild

import "math"

// q4BlockSize is the number of weights per 4-bit block (one float32 scale each).
const q4BlockSize = 32

// q4AccuracyLevel is MatMulNBits' accuracy_level: 4 computes with int8 activations (a variable for tests,
// which check the weight packing with exact float32 arithmetic, level 0).
var q4AccuracyLevel int64 = 4

// q4Linear emits x·wT through ONNX Runtime's MatMulNBits (com.microsoft): 4-bit weights in blocks of 32 along
// the input dimension, one symmetric scale per block and output column (zero point 8), computed with int8
// activations (accuracy_level 4), which uses the VNNI dot-product instructions where the CPU has them.
func (q *quantizer) q4Linear(g *graph, x, name string, in, out int64, wT []float32) string {
	blocks := (in + q4BlockSize - 1) / q4BlockSize
	blob := int64(q4BlockSize / 2)
	packed := make([]byte, out*blocks*blob)
	scales := make([]float32, out*blocks)
	for o := int64(0); o < out; o++ {
		for bk := int64(0); bk < blocks; bk++ {
			lo, hi := bk*q4BlockSize, min((bk+1)*q4BlockSize, in)
			var m float64
			for k := lo; k < hi; k++ {
				m = math.Max(m, math.Abs(float64(wT[k*out+o])))
			}
			scale := m / 7
			if scale == 0 {
				scale = 1
			}
			scales[o*blocks+bk] = float32(scale)
			for k := lo; k < hi; k++ {
				v := math.RoundToEven(float64(wT[k*out+o])/float64(float32(scale))) + 8
				u := byte(math.Max(0, math.Min(15, v)))
				idx := o*blocks*blob + bk*blob + (k-lo)/2
				if (k-lo)%2 == 0 {
					packed[idx] |= u
				} else {
					packed[idx] |= u << 4
				}
			}
			for k := hi; k < lo+q4BlockSize; k++ { // padding of a partial last block: value 0 (code 8)
				idx := o*blocks*blob + bk*blob + (k-lo)/2
				if (k-lo)%2 == 0 {
					packed[idx] |= 8
				} else {
					packed[idx] |= 8 << 4
				}
			}
		}
	}
	wq := g.rawInitializer(name+".weight_q4", tUint8, []int64{out, blocks, blob}, packed)
	ws := g.initializer(name+".weight_q4_scale", []int64{out * blocks}, scales)
	return g.msOp("MatMulNBits", []string{x, wq, ws},
		aInt("K", in), aInt("N", out), aInt("bits", 4), aInt("block_size", q4BlockSize), aInt("accuracy_level", q4AccuracyLevel))
}
