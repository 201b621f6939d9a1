package modelbuild

import "math"

// buildVision emits vision_encoder.onnx: pixel_values f32 [B,N,3,S,S] and pixel_attention_mask bool [B,N,S,S]
// in, image_features f32 [n,64,D] out, where n counts the tiles that are not all-zero padding.
//
// The graph is SigLIP (patch convolution, learned positions, pre-LN encoder layers with tanh-GELU MLPs,
// post-LayerNorm) followed by the Idefics3 connector (pixel shuffle by scale_factor, bias-free projection).
// Tiles are always full (the processor never pads inside a tile), so pixel_attention_mask is accepted for
// the interface but does not change the result.
func buildVision(c *Config, w *weightSet, q *quantizer) *graph {
	v := c.Vision
	g := newGraph("vision_encoder")
	S, P, C := v.ImageSize, v.PatchSize, v.Channels
	grid := c.patchGrid()
	np := int64(grid * grid)
	dv, iv := int64(v.Hidden), int64(v.Intermediate)
	dt := int64(c.Text.Hidden)
	heads := int64(v.Heads)
	hd := dv / heads

	pv := g.input("pixel_values", tFloat, "batch_size", "num_images", C, S, S)
	pm := g.input("pixel_attention_mask", tBool, "batch_size", "num_images", S, S)
	x := g.reshape(pv, -1, int64(C), int64(S), int64(S))
	// A tile is padding when all its pixel values are exactly 0 (as transformers decides); if no tile is
	// real, the first is kept. Real tiles are always full, so the mask is not needed beyond that.
	_ = pm
	absMax := g.op("ReduceMax", []string{g.op("Abs", []string{x})}, aInts("axes", 1, 2, 3), aInt("keepdims", 0))
	keep := g.op("Greater", []string{absMax, g.constF32(0)})
	nTiles := g.shapeDim(x, 0)
	idx := g.op("Range", []string{g.constI64(true, 0), nTiles, g.constI64(true, 1)})
	isFirst := g.op("Equal", []string{idx, g.constI64(true, 0)})
	anyKeep := g.op("Greater", []string{g.op("ReduceMax", []string{g.cast(keep, tFloat)}, aInts("axes", 0), aInt("keepdims", 0)), g.constF32(0)})
	keep = g.op("Or", []string{keep, g.op("And", []string{isFirst, g.op("Not", []string{anyKeep})})})
	x = g.op("Compress", []string{x, keep}, aInt("axis", 0))

	// Patch embedding and learned positions (identity position ids for full tiles).
	pw := g.initializer(nPatchW, []int64{dv, int64(C), int64(P), int64(P)}, w.get(nPatchW, dv, int64(C), int64(P), int64(P)))
	pb := g.initializer(nPatchB, []int64{dv}, w.get(nPatchB, dv))
	h := g.op("Conv", []string{x, pw, pb}, aInts("kernel_shape", int64(P), int64(P)), aInts("strides", int64(P), int64(P)))
	h = g.transpose(g.reshape(h, 0, dv, np), 0, 2, 1) // [T, np, dv]
	h = g.add(h, g.initializer(nPos, []int64{np, dv}, w.get(nPos, np, dv)))

	eps := float32(v.LayerNormEps)
	layerNorm := func(x, wn, bn string) string {
		return g.op("LayerNormalization", []string{x,
			g.initializer(wn, []int64{dv}, w.get(wn, dv)),
			g.initializer(bn, []int64{dv}, w.get(bn, dv))}, aInt("axis", -1), aFloat("epsilon", eps))
	}
	var scale string
	if !q.fusedAttention() {
		scale = g.constF32(float32(1 / math.Sqrt(float64(hd))))
	}
	for i := 0; i < v.Layers; i++ {
		r := h
		n := layerNorm(h, vName(i, "layer_norm1.weight"), vName(i, "layer_norm1.bias"))
		wqkv := concatCols(dv,
			w.linearT(vName(i, "self_attn.q_proj.weight"), dv, dv),
			w.linearT(vName(i, "self_attn.k_proj.weight"), dv, dv),
			w.linearT(vName(i, "self_attn.v_proj.weight"), dv, dv))
		bqkv := append(append(append([]float32{}, w.get(vName(i, "self_attn.q_proj.bias"), dv)...),
			w.get(vName(i, "self_attn.k_proj.bias"), dv)...), w.get(vName(i, "self_attn.v_proj.bias"), dv)...)
		qkv := q.linear(g, n, vName(i, "self_attn.qkv"), dv, 3*dv, wqkv, bqkv)
		parts := g.split(qkv, -1, dv, dv, dv)
		var o string
		if q.fusedAttention() {
			// int8 graphs: ONNX Runtime's MultiHeadAttention on the [T,np,dv] projections: the same
			// softmax(Q·Kᵀ/√hd)·V in float32 in one kernel, without head transposes (measured on 2 cores: a
			// 512-px tile's attention 186 → 137 ms). Its packed-QKV input would save the Split, but ONNX
			// Runtime 1.24 implements that only on CUDA. (The text graphs keep standard attention: there
			// MultiHeadAttention, causal or with a bias, was no faster.)
			o = g.msOp("MultiHeadAttention", parts, aInt("num_heads", heads))
		} else {
			qh := g.transpose(g.reshape(parts[0], 0, 0, heads, hd), 0, 2, 1, 3) // [T,H,np,hd]
			kh := g.transpose(g.reshape(parts[1], 0, 0, heads, hd), 0, 2, 3, 1) // [T,H,hd,np]
			vh := g.transpose(g.reshape(parts[2], 0, 0, heads, hd), 0, 2, 1, 3) // [T,H,np,hd]
			s := g.mul(g.matmul(qh, kh), scale)
			a := g.op("Softmax", []string{s}, aInt("axis", -1))
			o = g.reshape(g.transpose(g.matmul(a, vh), 0, 2, 1, 3), 0, 0, dv)
		}
		o = q.linear(g, o, vName(i, "self_attn.out_proj"), dv, dv,
			w.linearT(vName(i, "self_attn.out_proj.weight"), dv, dv), w.get(vName(i, "self_attn.out_proj.bias"), dv))
		h = g.add(r, o)

		r = h
		n = layerNorm(h, vName(i, "layer_norm2.weight"), vName(i, "layer_norm2.bias"))
		f := q.linear(g, n, vName(i, "mlp.fc1"), dv, iv, w.linearT(vName(i, "mlp.fc1.weight"), iv, dv), w.get(vName(i, "mlp.fc1.bias"), iv))
		f = geluTanh(g, f)
		f = q.linear(g, f, vName(i, "mlp.fc2"), iv, dv, w.linearT(vName(i, "mlp.fc2.weight"), dv, iv), w.get(vName(i, "mlp.fc2.bias"), dv))
		h = g.add(r, f)
	}
	h = layerNorm(h, nPostLNW, nPostLNB)

	// Pixel shuffle: token (i, j) of the (grid/sf)² output grid gathers the sf×sf patches
	// (sf·i+dy, sf·j+dx) with channels ordered (dy, dx, d).
	sf := int64(c.ScaleFactor)
	gs := int64(grid) / sf
	h = g.reshape(h, -1, gs, sf, gs, sf, dv)
	h = g.transpose(h, 0, 1, 3, 2, 4, 5)
	h = g.reshape(h, -1, gs*gs, sf*sf*dv)
	out := q.linear(g, h, "model.connector.modality_projection.proj", sf*sf*dv, dt, w.linearT(nConnW, dt, sf*sf*dv), nil)
	g.output("image_features", out, tFloat, "num_real_images", c.tokensPerTile(), int(dt))
	return g
}

// geluTanh emits 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) in the form ONNX Runtime's FastGeluFusion matches.
func geluTanh(g *graph, x string) string {
	cube := g.op("Pow", []string{x, g.constF32(3)})
	inner := g.add(x, g.mul(cube, g.constF32(0.044715)))
	t := g.op("Tanh", []string{g.mul(inner, g.constF32(float32(math.Sqrt(2/math.Pi))))})
	return g.mul(g.mul(x, g.constF32(0.5)), g.add(t, g.constF32(1)))
}
