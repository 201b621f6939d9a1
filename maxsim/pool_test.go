package maxsim

import (
	"math"
	"reflect"
	"testing"
)

func TestPoolHierarchical_NumPyGolden(t *testing.T) {
	g := loadGoldens(t)
	for i, c := range g.Pool {
		pooled, clusters := PoolHierarchical(c.Vectors, c.Factor)
		if !reflect.DeepEqual(clusters, c.Clusters) {
			t.Errorf("case %d (n=%d, factor %d): clusters\n%v\nwant (NumPy greedy Ward)\n%v", i, len(c.Vectors), c.Factor, clusters, c.Clusters)
			continue
		}
		for j := range pooled {
			for k := range pooled[j] {
				if math.Abs(float64(pooled[j][k]-c.Pooled[j][k])) > 1e-5 {
					t.Fatalf("case %d cluster %d dim %d: %v, want %v", i, j, k, pooled[j][k], c.Pooled[j][k])
				}
			}
		}
	}
}

func TestPoolHierarchical_FactorOneKeepsVectors(t *testing.T) {
	in := [][]float32{{1, 0}, {0, 1}, {0.6, 0.8}}
	for _, f := range []int{0, 1} {
		out, clusters := PoolHierarchical(in, f)
		if !reflect.DeepEqual(out, in) || len(clusters) != 3 {
			t.Fatalf("factor %d: %v %v", f, out, clusters)
		}
		out[0][0] = 9
		if in[0][0] != 1 {
			t.Fatal("PoolHierarchical returned the caller's slices")
		}
	}
}

func TestPoolHierarchical_Counts(t *testing.T) {
	vecs := randVecs(newRand(), 1030, 128)
	for _, f := range []int{2, 3} {
		out, clusters := PoolHierarchical(vecs, f)
		if len(out) != 1030/f {
			t.Fatalf("factor %d: %d vectors, want %d", f, len(out), 1030/f)
		}
		seen := make([]bool, 1030)
		for _, c := range clusters {
			for _, i := range c {
				if seen[i] {
					t.Fatalf("vector %d in two clusters", i)
				}
				seen[i] = true
			}
		}
		for _, v := range out {
			var n float64
			for _, x := range v {
				n += float64(x) * float64(x)
			}
			if math.Abs(n-1) > 1e-5 {
				t.Fatalf("pooled vector has norm² %v", n)
			}
		}
	}
}
