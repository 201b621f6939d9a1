package modelbuild

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/colsmol/colsmol/internal/ort"
)

// initORT loads ONNX Runtime or skips the test when the library is truly missing.
func initORT(t testing.TB) {
	t.Helper()
	if _, err := ort.Init(""); err != nil {
		if os.Getenv("ONNXRUNTIME_LIB") == "" {
			if _, serr := os.Stat("../../lib/libonnxruntime.so.1.24.3"); serr == nil {
				t.Setenv("ONNXRUNTIME_LIB", "../../lib/libonnxruntime.so.1.24.3")
				if _, err = ort.Init(""); err == nil {
					return
				}
			}
		}
		t.Skipf("ONNX Runtime not available (run make ort): %v", err)
	}
}

// sessions caches the sessions a test opened, by test and file, so helpers can reopen files cheaply.
var sessions = map[testing.TB]map[string]*ort.Session{}

// openSession opens an ONNX file with one thread, once per test (later calls return the same session), and
// closes it at the end of the test.
func openSession(t testing.TB, path string) *ort.Session {
	t.Helper()
	if s, ok := sessions[t][path]; ok {
		return s
	}
	s, err := ort.NewSession(path, ort.Options{Threads: 1})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if sessions[t] == nil {
		sessions[t] = map[string]*ort.Session{}
		t.Cleanup(func() {
			for _, s := range sessions[t] {
				s.Close()
			}
			delete(sessions, t)
		})
	}
	sessions[t][path] = s
	return s
}

func run(t testing.TB, s *ort.Session, in map[string]ort.Tensor, outs ...string) map[string]ort.Tensor {
	t.Helper()
	r, err := s.RunContext(context.Background(), in, outs)
	if err != nil {
		t.Fatalf("run %s: %v", filepath.Base(s.Path()), err)
	}
	return r
}

// buildRandom converts a random preset into a temporary folder.
func buildRandom(t testing.TB, preset string, seed int64, precision string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), preset)
	err := Convert(context.Background(), ConvertOptions{Random: true, Preset: preset, Seed: seed, Out: dir,
		Precision: precision, Tokenizer: "../../testdata/tokenizer"})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// syntheticTile returns a [3,S,S] tile in [-1,1]: kind 0 a smooth gradient, 1 noise, 2 stripes.
func syntheticTile(size, kind int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]float32, 3*size*size)
	for c := 0; c < 3; c++ {
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				var v float64
				switch kind {
				case 0:
					v = float64(x+y*c)/float64(size) - 0.7
				case 1:
					v = r.Float64()*2 - 1
				default:
					v = math.Sin(float64(x)/7+float64(c)) * math.Cos(float64(y)/11)
				}
				out[(c*size+y)*size+x] = float32(math.Max(-1, math.Min(1, v)))
			}
		}
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
