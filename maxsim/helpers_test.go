package maxsim

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

func randVecs(r *rand.Rand, n, dim int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		var norm float64
		for k := range v {
			v[k] = float32(r.NormFloat64())
			norm += float64(v[k]) * float64(v[k])
		}
		for k := range v {
			v[k] /= float32(math.Sqrt(norm))
		}
		out[i] = v
	}
	return out
}

// forEachPath runs f with the fastest kernels, then without AVX-512, then with the portable ones.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	t.Run("fast", f)
	saved := [4]bool{useBlocked, useVPOPCNT, useF16C, useWide}
	defer func() { useBlocked, useVPOPCNT, useF16C, useWide = saved[0], saved[1], saved[2], saved[3] }()
	if useWide {
		useWide = false
		t.Run("avx2", f)
	}
	useBlocked, useVPOPCNT, useF16C, useWide = false, false, false, false
	t.Run("portable", f)
}

type goldens struct {
	F16 struct {
		F32Bits []uint32 `json:"f32_bits"`
		F16Bits []uint16 `json:"f16_bits"`
	} `json:"f16"`
	MaxSim []struct {
		Q, D  [][]float32
		Score float64
	} `json:"maxsim"`
	Pool []struct {
		Vectors  [][]float32
		Factor   int
		Clusters [][]int
		Pooled   [][]float32
	} `json:"pool"`
}

func loadGoldens(t *testing.T) *goldens {
	t.Helper()
	raw, err := os.ReadFile("testdata/goldens.json")
	if err != nil {
		t.Fatalf("read goldens (made by scripts/bench/make_maxsim_goldens.py): %v", err)
	}
	var g goldens
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(11, 12)) }

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), 1e-30)
}
