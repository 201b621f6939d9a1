package maxsim

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// plantedPage returns clusters·per two-word codes: noisy copies (flips random bits each) of
// clusters random centres, in runs of per when contiguous, else shuffled, and the centres.
func plantedPage(r *rand.Rand, clusters, per, flips int, contiguous bool) (codes, centres []uint64) {
	for c := 0; c < clusters; c++ {
		centres = append(centres, r.Uint64(), r.Uint64())
	}
	order := make([]int, clusters*per)
	for j := range order {
		order[j] = j / per
	}
	if !contiguous {
		r.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	}
	for _, c := range order {
		lo, hi := centres[2*c], centres[2*c+1]
		for f := 0; f < flips; f++ {
			b := r.IntN(128)
			if b < 64 {
				lo ^= 1 << b
			} else {
				hi ^= 1 << (b - 64)
			}
		}
		codes = append(codes, lo, hi)
	}
	return codes, centres
}

// nearestDistance returns the least Hamming distance between the two-word code at c and any of codes.
func nearestDistance(c []uint64, codes []uint64) int {
	best := 129
	for j := 0; j+1 < len(codes); j += 2 {
		best = min(best, bits.OnesCount64(c[0]^codes[j])+bits.OnesCount64(c[1]^codes[j+1]))
	}
	return best
}

func TestSketchCodes_RecoversPlantedRegions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// A page whose regions (runs of patches) each repeat one code with 3 of 128 bits flipped: the
	// majority vote of a region is its centre, so the sketch must hold every centre exactly.
	const clusters, per = 16, 60
	codes, centres := plantedPage(r, clusters, per, 3, true)
	sketch := SketchCodes(codes, clusters*per, 2, clusters)
	if len(sketch) != 2*clusters {
		t.Fatalf("sketch has %d words, want %d", len(sketch), 2*clusters)
	}
	for c := 0; c < clusters; c++ {
		if d := nearestDistance(centres[2*c:2*c+2], sketch); d != 0 {
			t.Errorf("centre %d: nearest sketch code %d bits away, want 0", c, d)
		}
	}
}

func TestSketchCodes_CoversShuffledClusters(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// Clusters scattered over the page (no spatial order): k-means may split one cluster and merge two
	// others, but with twice as many codes as clusters every patch must end up near a sketch code,
	// far closer than unrelated codes (64 bits apart on average).
	const clusters, per = 16, 64
	codes, _ := plantedPage(r, clusters, per, 4, false)
	sketch := SketchCodes(codes, clusters*per, 2, 2*clusters)
	far := 0
	for j := 0; j < clusters*per; j++ {
		if d := nearestDistance(codes[2*j:2*j+2], sketch); d > 12 {
			far++
		}
	}
	if far > clusters*per/20 {
		t.Errorf("%d of %d codes are more than 12 bits from every sketch code", far, clusters*per)
	}
	// And the coarse score follows the full one: a query made of noisy patches of the page scores
	// within 10% of its full binary MaxSim against the sketch, and far above a page of other codes.
	var qv []uint64
	for i := 0; i < 20; i++ {
		j := r.IntN(clusters * per)
		qv = append(qv, codes[2*j]^(1<<r.IntN(64)), codes[2*j+1])
	}
	q := &Query{N: 20, Dim: 128, Codes: qv}
	h := q.HammingScorer()
	full := h.Score(codes, clusters*per)
	coarse := h.Score(sketch, 2*clusters)
	other, _ := plantedPage(r, clusters, per, 4, false)
	unrelated := h.Score(SketchCodes(other, clusters*per, 2, 2*clusters), 2*clusters)
	if coarse > full || float64(coarse) < 0.9*float64(full) {
		t.Errorf("sketch score %d, full score %d: want within 10%% below", coarse, full)
	}
	if unrelated >= coarse/2 {
		t.Errorf("unrelated page's sketch scores %d, the page's own %d", unrelated, coarse)
	}
}

func TestSketchCodes_SmallPagesAndDeterminism(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	codes, _ := plantedPage(r, 3, 5, 10, false)
	if got := SketchCodes(codes, 15, 2, 15); !slices.Equal(got, codes) {
		t.Errorf("a page of k codes changed: %x, want %x", got, codes)
	}
	if got := SketchCodes(codes, 15, 2, 64); !slices.Equal(got, codes) {
		t.Errorf("a page of fewer than k codes changed")
	}
	big, _ := plantedPage(r, 40, 25, 8, false)
	a, b := SketchCodes(big, 1000, 2, 64), SketchCodes(big, 1000, 2, 64)
	if !slices.Equal(a, b) {
		t.Error("two sketches of the same page differ")
	}
	// Three-word codes (dim 129..192) take the same path.
	three := make([]uint64, 3*100)
	for i := range three {
		three[i] = r.Uint64()
	}
	if got := SketchCodes(three, 100, 3, 10); len(got) != 30 {
		t.Errorf("3-word sketch has %d words, want 30", len(got))
	}
}

func TestUnpackCodes_InvertsPackCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, w := range []int{1, 2, 3} {
		for _, n := range []int{0, 1, 7, 8, 9, 100} {
			codes := make([]uint64, n*w)
			for i := range codes {
				codes[i] = r.Uint64()
			}
			if got := UnpackCodes(PackCodes(codes, n, w), w); !slices.Equal(got, codes) {
				t.Errorf("w=%d n=%d: unpack(pack(x)) != x", w, n)
			}
		}
	}
}
