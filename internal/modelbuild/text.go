package modelbuild

import (
	"fmt"
	"math"
)

// maskValue is what masked attention scores get (float32's lowest value, as transformers uses), so that a
// row with every key masked gives a uniform distribution rather than NaN.
const maskValue = -math.MaxFloat32

// buildEmbedTokens emits embed_tokens.onnx: input_ids i64 [B,S] → inputs_embeds f32 [B,S,D].
func buildEmbedTokens(c *Config, w *weightSet) *graph {
	g := newGraph("embed_tokens")
	v, d := int64(c.Text.Vocab), int64(c.Text.Hidden)
	ids := g.input("input_ids", tInt64, "batch_size", "sequence_length")
	var table string
	if c.HalfTables {
		table = g.initializerHalf(nEmbed, []int64{v, d}, w.get(nEmbed, v, d))
	} else {
		table = g.initializer(nEmbed, []int64{v, d}, w.get(nEmbed, v, d))
	}
	out := g.op("Gather", []string{table, ids}, aInt("axis", 0))
	if c.HalfTables {
		out = g.cast(out, tFloat)
	}
	g.output("inputs_embeds", out, tFloat, "batch_size", "sequence_length", int(d))
	return g
}

// buildText emits the Llama text model. For a generator (c.Retriever false) it is decoder_model_merged.onnx:
// inputs_embeds f32 [B,S,D], attention_mask i64 [B,P+S], position_ids i64 [B,S], past_key_values.{i}.key/value
// f32 [B,KV,P,hd] → logits f32 [B,S,V], present.{i}.key/value f32 [B,KV,P+S,hd]; P may be 0.
// For a retriever it is text_embeddings.onnx: the same inputs without the cache → embeddings f32 [B,S,128]
// (final RMSNorm, linear D→128 with bias, L2 normalisation, times attention_mask).
func buildText(c *Config, w *weightSet, q *quantizer) *graph {
	t := c.Text
	name := "decoder_model_merged"
	if c.Retriever {
		name = "text_embeddings"
	}
	g := newGraph(name)
	d, it := int64(t.Hidden), int64(t.Intermediate)
	H, KV, hd := int64(t.Heads), int64(t.KVHeads), int64(t.HeadDim)
	rep := H / KV
	cache := !c.Retriever
	total := "total_sequence_length"
	if !cache {
		total = "sequence_length"
	}

	x := g.input("inputs_embeds", tFloat, "batch_size", "sequence_length", int(d))
	am := g.input("attention_mask", tInt64, "batch_size", total)
	pos := g.input("position_ids", tInt64, "batch_size", "sequence_length")
	var pastK, pastV []string
	if cache {
		for i := 0; i < t.Layers; i++ {
			pastK = append(pastK, g.input(fmt.Sprintf("past_key_values.%d.key", i), tFloat, "batch_size", int(KV), "past_sequence_length", int(hd)))
			pastV = append(pastV, g.input(fmt.Sprintf("past_key_values.%d.value", i), tFloat, "batch_size", int(KV), "past_sequence_length", int(hd)))
		}
	}

	// Rotary tables: angle = position · θ^(-2i/hd), duplicated over both halves (rotate-half convention).
	// (ONNX Runtime's RotaryEmbedding operator was tried: decoding got only 2-7 % faster, so the graphs keep
	// standard operators.)
	half := hd / 2
	inv := make([]float32, half)
	for i := range inv {
		inv[i] = float32(1 / math.Pow(t.RopeTheta, float64(2*i)/float64(hd)))
	}
	invFreq := g.initializer("rope_inv_freq", []int64{half}, inv)
	ang := g.mul(g.unsqueeze(g.cast(pos, tFloat), -1), invFreq) // [B,S,hd/2]
	ang = g.op("Concat", []string{ang, ang}, aInt("axis", -1))  // [B,S,hd]
	cos := g.unsqueeze(g.op("Cos", []string{ang}), 1)           // [B,1,S,hd]
	sin := g.unsqueeze(g.op("Sin", []string{ang}), 1)
	rope := func(u string) string { // u: [B,heads,S,hd]
		u1 := g.sliceLast(u, 0, half)
		u2 := g.sliceLast(u, half, hd)
		rot := g.op("Concat", []string{g.op("Neg", []string{u2}), u1}, aInt("axis", -1))
		return g.add(g.mul(u, cos), g.mul(rot, sin))
	}

	// Attention bias [B,1,1,S,T]: key j is visible to query i when j ≤ P+i and attention_mask[b,j] = 1.
	T := g.shapeDim(am, 1)
	S := g.shapeDim(x, 1)
	qpos := g.op("Range", []string{g.sub(T, S), T, g.constI64(true, 1)})
	kpos := g.op("Range", []string{g.constI64(true, 0), T, g.constI64(true, 1)})
	causal := g.op("LessOrEqual", []string{g.unsqueeze(kpos, 0), g.unsqueeze(qpos, 1)}) // [S,T]
	padOK := g.unsqueeze(g.cast(am, tBool), 1)                                          // [B,1,T]
	allowed := g.op("And", []string{g.unsqueeze(causal, 0), padOK})                     // [B,S,T]
	bias := g.op("Where", []string{allowed, g.constF32(0), g.constF32(maskValue)})      // [B,S,T]
	bias = g.unsqueeze(bias, 1, 2)                                                      // [B,1,1,S,T]

	eps := float32(t.RMSNormEps)
	rmsNorm := func(x, wn string) string {
		// x / sqrt(mean(x²) + eps) · w, in the form of ONNX Runtime's SimplifiedLayerNormFusion.
		ms := g.op("ReduceMean", []string{g.op("Pow", []string{x, g.constF32(2)})}, aInts("axes", -1), aInt("keepdims", 1))
		n := g.div(x, g.op("Sqrt", []string{g.add(ms, g.constF32(eps))}))
		return g.mul(n, g.initializer(wn, []int64{d}, w.get(wn, d)))
	}
	scale := g.constF32(float32(1 / math.Sqrt(float64(hd))))
	var presents [][2]string
	h := x
	for i := 0; i < t.Layers; i++ {
		r := h
		n := rmsNorm(h, tName(i, "input_layernorm.weight"))
		wqkv := concatCols(d,
			w.linearT(tName(i, "self_attn.q_proj.weight"), H*hd, d),
			w.linearT(tName(i, "self_attn.k_proj.weight"), KV*hd, d),
			w.linearT(tName(i, "self_attn.v_proj.weight"), KV*hd, d))
		qkv := q.linear(g, n, tName(i, "self_attn.qkv"), d, (H+2*KV)*hd, wqkv, nil)
		parts := g.split(qkv, -1, H*hd, KV*hd, KV*hd)
		qh := rope(g.transpose(g.reshape(parts[0], 0, 0, H, hd), 0, 2, 1, 3))  // [B,H,S,hd]
		kh := rope(g.transpose(g.reshape(parts[1], 0, 0, KV, hd), 0, 2, 1, 3)) // [B,KV,S,hd]
		vh := g.transpose(g.reshape(parts[2], 0, 0, KV, hd), 0, 2, 1, 3)       // [B,KV,S,hd]
		if cache {
			kh = g.op("Concat", []string{pastK[i], kh}, aInt("axis", 2))
			vh = g.op("Concat", []string{pastV[i], vh}, aInt("axis", 2))
			presents = append(presents, [2]string{kh, vh})
		}
		// Grouped-query attention without copying K/V: query heads are grouped [B,KV,rep,S,hd] and K/V
		// broadcast over the group axis (query head h uses KV head h / rep, as repeat_kv does).
		q5 := g.mul(g.reshape(qh, 0, KV, rep, -1, hd), scale)
		k5 := g.unsqueeze(g.transpose(kh, 0, 1, 3, 2), 2) // [B,KV,1,hd,T]
		v5 := g.unsqueeze(vh, 2)                          // [B,KV,1,T,hd]
		s := g.add(g.matmul(q5, k5), bias)
		a := g.op("Softmax", []string{s}, aInt("axis", -1))
		o := g.reshape(g.matmul(a, v5), 0, H, -1, hd)         // [B,H,S,hd]
		o = g.reshape(g.transpose(o, 0, 2, 1, 3), 0, 0, H*hd) // [B,S,H·hd]
		o = q.linear(g, o, tName(i, "self_attn.o_proj"), H*hd, d, w.linearT(tName(i, "self_attn.o_proj.weight"), d, H*hd), nil)
		h = g.add(r, o)

		r = h
		n = rmsNorm(h, tName(i, "post_attention_layernorm.weight"))
		wgu := concatCols(d,
			w.linearT(tName(i, "mlp.gate_proj.weight"), it, d),
			w.linearT(tName(i, "mlp.up_proj.weight"), it, d))
		gu := g.split(q.linear(g, n, tName(i, "mlp.gate_up"), d, 2*it, wgu, nil), -1, it, it)
		act := g.mul(g.mul(gu[0], g.op("Sigmoid", []string{gu[0]})), gu[1])
		f := q.linear(g, act, tName(i, "mlp.down_proj"), it, d, w.linearT(tName(i, "mlp.down_proj.weight"), d, it), nil)
		h = g.add(r, f)
	}
	h = rmsNorm(h, nNorm)

	if c.Retriever {
		p := int64(c.ProjDim)
		e := fp32.linear(g, h, "linear", d, p, w.linearT(nLinearW, p, d), w.get(nLinearB, p))
		norm := g.op("Sqrt", []string{g.op("ReduceSumSquare", []string{e}, aInts("axes", -1), aInt("keepdims", 1))})
		e = g.div(e, norm)
		e = g.mul(e, g.unsqueeze(g.cast(am, tFloat), -1))
		g.output("embeddings", e, tFloat, "batch_size", "sequence_length", int(p))
		return g
	}
	v := int64(t.Vocab)
	headName := nLMHead
	if c.TieEmbed {
		headName = nEmbed
	}
	var logits string
	switch {
	case c.HalfTables:
		wt := g.cast(g.initializerHalf("lm_head.weight_t", []int64{d, v}, w.linearT(headName, v, d)), tFloat)
		logits = g.matmul(h, wt)
	default:
		logits = fp32.linear(g, h, "lm_head", d, v, w.linearT(headName, v, d), nil)
	}
	g.output("logits", logits, tFloat, "batch_size", "sequence_length", int(v))
	for i, p := range presents {
		g.output(fmt.Sprintf("present.%d.key", i), p[0], tFloat, "batch_size", int(KV), "total_sequence_length", int(hd))
		g.output(fmt.Sprintf("present.%d.value", i), p[1], tFloat, "batch_size", int(KV), "total_sequence_length", int(hd))
	}
	return g
}
