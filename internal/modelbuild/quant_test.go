package modelbuild

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/colsmol/colsmol/internal/ort"
	"github.com/colsmol/colsmol/maxsim"
)

// pageVectors embeds a one-tile page prompt with a model folder's graphs: [L][128] vectors.
func pageVectors(t testing.TB, dir string, tile []float32) [][]float32 {
	e, L := promptEmbeds(t, dir, tile)
	return textVectors(t, dir, e, L)
}

// TestQuantizedCloseToFP32: the int8 and q4 retrievers' vectors stay close to the fp32 ones, vector by
// vector, and the graphs really use the integer kernels.
func TestQuantizedCloseToFP32(t *testing.T) {
	initORT(t)
	f := buildRandom(t, "tiny-colsmol", 1, "fp32")
	for _, c := range []struct {
		precision, kernel string
		minMean           float64
	}{
		{"int8", "DynamicQuantizeMatMul", 0.99},
		{"q4", "MatMulNBits", 0.9}, // 4-bit weights on 32-wide tiny layers: about 0.94
	} {
		q := buildRandom(t, "tiny-colsmol", 1, c.precision)
		ops := fusedOps(t, filepath.Join(q, "onnx", "vision_encoder.onnx"))
		if !strings.Contains(ops, c.kernel) {
			t.Errorf("%s vision graph does not use %s: %s", c.precision, c.kernel, ops)
		}
		// int8 vision graphs run attention as ONNX Runtime's MultiHeadAttention (no Softmax node left).
		if wantMHA := c.precision == "int8"; strings.Contains(ops, "MultiHeadAttention") != wantMHA || strings.Contains(ops, "Softmax") == wantMHA {
			t.Errorf("%s vision graph: MultiHeadAttention expected %v: %s", c.precision, wantMHA, ops)
		}
		minCos, sum, n := 1.0, 0.0, 0
		for _, tile := range [][]float32{syntheticTile(512, 0, 1), syntheticTile(512, 1, 2), syntheticTile(512, 2, 3)} {
			a, b := pageVectors(t, f, tile), pageVectors(t, q, tile)
			for i := range a {
				c := cosine(a[i], b[i])
				minCos = math.Min(minCos, c)
				sum += c
				n++
			}
		}
		t.Logf("tiny-colsmol %s vs fp32: per-vector cosine mean %.5f, min %.5f over %d vectors", c.precision, sum/float64(n), minCos, n)
		if sum/float64(n) < c.minMean {
			t.Errorf("%s: mean per-vector cosine %.4f < %g", c.precision, sum/float64(n), c.minMean)
		}
	}
}

// TestInt8GreedyAgreement reports how often the int8 generator's greedy tokens agree with fp32's.
func TestInt8GreedyAgreement(t *testing.T) {
	initORT(t)
	f := buildRandom(t, "tiny-smolvlm", 1, "fp32")
	q := buildRandom(t, "tiny-smolvlm", 1, "int8")
	agree, total := 0, 0
	for k, tile := range [][]float32{syntheticTile(512, 0, 1), syntheticTile(512, 1, 2), syntheticTile(512, 2, 3)} {
		ef, _ := promptEmbeds(t, f, tile)
		eq, _ := promptEmbeds(t, q, tile)
		a, b := greedy(t, f, ef, 8), greedy(t, q, eq, 8)
		total += len(a)
		for i := range a {
			if a[i] != b[i] {
				break // after the first difference the continuations are not comparable
			}
			agree++
		}
		t.Logf("image %d: fp32 %v, int8 %v", k, a, b)
	}
	t.Logf("tiny-smolvlm int8 vs fp32: %d of %d greedy tokens agree (identical prefixes)", agree, total)
	if agree == 0 {
		t.Errorf("int8 and fp32 disagree on every first token")
	}
}

// queryVectors embeds token ids with the retriever's text path (no image): [L][128].
func queryVectors(t testing.TB, dir string, ids []int64) [][]float32 {
	emb := openSession(t, filepath.Join(dir, "onnx", "embed_tokens.onnx"))
	e := run(t, emb, map[string]ort.Tensor{"input_ids": ort.I64(ids, 1, int64(len(ids)))}, "inputs_embeds")["inputs_embeds"]
	return textVectors(t, dir, e, len(ids))
}

// textVectors runs a model folder's text_embeddings graph over L input embeddings e: [L][128].
func textVectors(t testing.TB, dir string, e ort.Tensor, L int) [][]float32 {
	pos := make([]int64, L)
	for i := range pos {
		pos[i] = int64(i)
	}
	txt := openSession(t, filepath.Join(dir, "onnx", "text_embeddings.onnx"))
	r := run(t, txt, map[string]ort.Tensor{"inputs_embeds": e, "attention_mask": ort.I64(make1(L), 1, int64(L)), "position_ids": ort.I64(pos, 1, int64(L))}, "embeddings")["embeddings"]
	out := make([][]float32, L)
	for i := range out {
		out[i] = r.F32[i*128 : (i+1)*128]
	}
	return out
}

func ranking(q [][]float32, pages [][][]float32) []int {
	idx := make([]int, len(pages))
	scores := make([]float64, len(pages))
	for i := range pages {
		idx[i] = i
		scores[i] = maxsim.Reference(q, pages[i])
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	return idx
}

// rankingAgreement embeds 8 synthetic one-tile pages and 6 random-token queries with two retriever folders
// and compares their MaxSim rankings: top-1 agreements and the overlap of the top-5 sets.
func rankingAgreement(t testing.TB, a, b string) (top1, overlap, queries int) {
	var pa, pb [][][]float32
	for k := 0; k < 8; k++ {
		tile := syntheticTile(512, k%3, uint64(k+10))
		pa = append(pa, pageVectors(t, a, tile))
		pb = append(pb, pageVectors(t, b, tile))
	}
	r := rand.New(rand.NewPCG(9, 9))
	queries = 6
	for k := 0; k < queries; k++ {
		ids := []int64{}
		for i := 0; i < 8; i++ {
			ids = append(ids, int64(100+r.IntN(40000)))
		}
		for i := 0; i < 10; i++ {
			ids = append(ids, 49279)
		}
		ra := ranking(queryVectors(t, a, ids), pa)
		rb := ranking(queryVectors(t, b, ids), pb)
		if ra[0] == rb[0] {
			top1++
		}
		in := map[int]bool{}
		for _, x := range ra[:5] {
			in[x] = true
		}
		for _, x := range rb[:5] {
			if in[x] {
				overlap++
			}
		}
	}
	return top1, overlap, queries
}

// TestInt8RankingAgreement measures, on the tiny retriever, how far int8 changes MaxSim rankings of a set of
// pages for a set of queries (top-1 agreement and top-5 overlap).
func TestInt8RankingAgreement(t *testing.T) {
	initORT(t)
	f := buildRandom(t, "tiny-colsmol", 1, "fp32")
	q := buildRandom(t, "tiny-colsmol", 1, "int8")
	top1, overlap, nq := rankingAgreement(t, f, q)
	t.Logf("tiny-colsmol int8 vs fp32 over 8 pages × %d queries: top-1 agreement %d/%d, top-5 overlap %d/%d", nq, top1, nq, overlap, 5*nq)
	if top1 < nq/2 {
		t.Errorf("int8 changes the best page for %d of %d queries", nq-top1, nq)
	}
}
