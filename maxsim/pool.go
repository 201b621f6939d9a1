package maxsim

import (
	"math"
	"sort"

	"github.com/viterin/vek/vek32"
)

// PoolHierarchical reduces a page's vectors to at most max(len(vecs)/factor, 1) by hierarchical
// clustering, as colpali-engine's HierarchicalTokenPooler does: the observations are the rows of the
// cosine-distance matrix 1 − E·Eᵀ, clustered by Ward linkage on their Euclidean distances (SciPy's
// linkage(distances, metric="euclidean", method="ward")); the tree is cut into that many clusters
// (fcluster criterion "maxclust"); each cluster becomes the mean of its vectors, L2-normalised.
// It returns the pooled vectors and, for each, the indexes of the vectors it replaces (ascending;
// clusters ordered by their first index). A factor ≤ 1 or a page of at most one vector is returned
// as is (copied).
func PoolHierarchical(vecs [][]float32, factor int) (pooled [][]float32, clusters [][]int) {
	n := len(vecs)
	if factor <= 1 || n <= 1 {
		for i, v := range vecs {
			pooled = append(pooled, append([]float32(nil), v...))
			clusters = append(clusters, []int{i})
		}
		return pooled, clusters
	}
	merges := wardMerges(rowDistances(vecs))
	labels := cutTree(n, merges, max(n/factor, 1))
	return poolClusters(vecs, labels)
}

// rowDistances returns the squared Euclidean distances between the rows of 1 − E·Eᵀ, n×n. With
// S = E·Eᵀ and G = S·Sᵀ = E·(EᵀE)·Eᵀ, ‖S_i − S_j‖² = G_ii + G_jj − 2·G_ij; computing G through the
// small dim×dim matrix EᵀE costs n²·dim instead of n³.
func rowDistances(vecs [][]float32) []float64 {
	n, dim := len(vecs), len(vecs[0])
	e := make([]float32, 0, n*dim) // n×dim
	for _, v := range vecs {
		e = append(e, v...)
	}
	et := make([]float32, dim*n) // dim×n
	for i := 0; i < n; i++ {
		for k := 0; k < dim; k++ {
			et[k*n+i] = e[i*dim+k]
		}
	}
	m := vek32.MatMul(et, e, n)   // dim×dim = EᵀE
	p := vek32.MatMul(e, m, dim)  // n×dim = E·EᵀE
	g := vek32.MatMul(p, et, dim) // n×n
	d := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			d[i*n+j] = math.Max(0, float64(g[i*n+i])+float64(g[j*n+j])-2*float64(g[i*n+j]))
		}
		d[i*n+i] = 0
	}
	return d
}

// merge joins the clusters whose first members are the leaves a and b at the given squared Ward height.
type merge struct {
	a, b   int
	height float64
}

// wardMerges runs Ward linkage over the squared distances d (n×n, overwritten) with the
// nearest-neighbour-chain algorithm and the Lance–Williams update, O(n²). Each merge names one leaf of
// each side, so the merges can be replayed in any order with a union-find.
func wardMerges(d []float64) []merge {
	n := int(math.Sqrt(float64(len(d))))
	size := make([]float64, n)
	active := make([]bool, n)
	for i := range size {
		size[i], active[i] = 1, true
	}
	merges := make([]merge, 0, n-1)
	chain := make([]int, 0, n)
	for len(merges) < n-1 {
		if len(chain) == 0 {
			for i := range active {
				if active[i] {
					chain = append(chain, i)
					break
				}
			}
		}
		a := chain[len(chain)-1]
		prev := -1
		if len(chain) > 1 {
			prev = chain[len(chain)-2]
		}
		b, best := prev, math.Inf(1)
		if prev >= 0 {
			best = d[a*n+prev]
		}
		for j := 0; j < n; j++ {
			if active[j] && j != a && d[a*n+j] < best {
				b, best = j, d[a*n+j]
			}
		}
		if b != prev {
			chain = append(chain, b)
			continue
		}
		chain = chain[:len(chain)-2]
		merges = append(merges, merge{a: a, b: b, height: best})
		// The merged cluster lives in slot a; slot b goes.
		na, nb := size[a], size[b]
		for k := 0; k < n; k++ {
			if !active[k] || k == a || k == b {
				continue
			}
			nk := size[k]
			v := ((na+nk)*d[a*n+k] + (nb+nk)*d[b*n+k] - nk*best) / (na + nb + nk)
			d[a*n+k], d[k*n+a] = v, v
		}
		size[a] += nb
		active[b] = false
	}
	return merges
}

// cutTree applies the lowest n−t merges and returns a cluster label per leaf (0..t−1, numbered by first
// leaf), like SciPy's fcluster(criterion="maxclust") on a monotone linkage.
func cutTree(n int, merges []merge, t int) []int {
	sort.SliceStable(merges, func(i, j int) bool { return merges[i].height < merges[j].height })
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, m := range merges[:max(0, n-t)] {
		ra, rb := find(m.a), find(m.b)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	labels := make([]int, n)
	ids := map[int]int{}
	for i := range labels {
		r := find(i)
		if _, ok := ids[r]; !ok {
			ids[r] = len(ids)
		}
		labels[i] = ids[r]
	}
	return labels
}

// poolClusters averages the vectors of each label and L2-normalises the means.
func poolClusters(vecs [][]float32, labels []int) ([][]float32, [][]int) {
	k := 0
	for _, l := range labels {
		k = max(k, l+1)
	}
	dim := len(vecs[0])
	clusters := make([][]int, k)
	sums := make([][]float64, k)
	for i, l := range labels {
		clusters[l] = append(clusters[l], i)
		if sums[l] == nil {
			sums[l] = make([]float64, dim)
		}
		for j, f := range vecs[i] {
			sums[l][j] += float64(f)
		}
	}
	pooled := make([][]float32, k)
	for l, s := range sums {
		var norm float64
		for _, f := range s {
			norm += f * f
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			norm = 1
		}
		v := make([]float32, dim)
		for j, f := range s {
			v[j] = float32(f / norm)
		}
		pooled[l] = v
	}
	return pooled, clusters
}
