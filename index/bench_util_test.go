package index

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colsmol/colsmol/maxsim"
)

// Benchmark sizes. COLSMOL_BENCH_SMALL=1 divides the collections by 20 for quick development runs.
var benchSmall = os.Getenv("COLSMOL_BENCH_SMALL") != ""

func benchPages(n int) int {
	if benchSmall {
		return max(n/20, 50)
	}
	return n
}

const (
	benchVectors = 1030 // vectors per page (a 13-tile ColSmolVLM page)
	benchQuery   = 25   // query vectors
	benchDim     = 128
)

// benchDir holds the collections shared by several benchmarks; TestMain removes it.
var (
	benchDirOnce sync.Once
	benchDir     string
	benchStores  sync.Map // pages → *benchStore
)

func sharedDir(tb testing.TB) string {
	benchDirOnce.Do(func() {
		d, err := os.MkdirTemp("", "colsmol-bench-")
		if err != nil {
			tb.Fatal(err)
		}
		benchDir = d
	})
	return benchDir
}

// benchStore is a bbolt index of synthetic pages plus the same vectors as a float16 .npy [N, L, D].
type benchStore struct {
	once     sync.Once
	err      error
	db, npy  string
	pages    int
	sy       *synth
	buildSec float64
}

// buildBenchStore writes (once per size per process) pages synthetic pages of benchVectors vectors,
// ten pages per document, into an index and a .npy file with identical float16 values.
func buildBenchStore(tb testing.TB, pages int) *benchStore {
	v, _ := benchStores.LoadOrStore(pages, &benchStore{})
	bs := v.(*benchStore)
	bs.once.Do(func() {
		dir := sharedDir(tb)
		bs.pages, bs.sy = pages, newSynth(42, benchDim, 256)
		bs.db = filepath.Join(dir, fmt.Sprintf("bench-%d.db", pages))
		bs.npy = filepath.Join(dir, fmt.Sprintf("bench-%d.npy", pages))
		start := time.Now()
		bs.err = bs.write()
		bs.buildSec = time.Since(start).Seconds()
	})
	if bs.err != nil {
		tb.Fatal(bs.err)
	}
	return bs
}

func (bs *benchStore) write() error {
	s, err := Open(bs.db, Options{NoSync: true})
	if err != nil {
		return err
	}
	defer s.Close()
	f, err := os.Create(bs.npy)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := writeNpyHeader(w, "<f2", bs.pages, benchVectors, benchDim); err != nil {
		return err
	}
	const perDoc = 10
	type job struct {
		first int
		pages []Page
	}
	jobs := make(chan job, 2)
	go func() { // generate on the other core while this one writes
		for first := 0; first < bs.pages; first += perDoc {
			jobs <- job{first, bs.sy.pages(uint64(first), min(perDoc, bs.pages-first), benchVectors)}
		}
		close(jobs)
	}()
	buf := make([]byte, 2*benchDim)
	for j := range jobs {
		doc := Document{Path: fmt.Sprintf("bench/doc%06d.pdf", j.first/perDoc), SHA256: fmt.Sprintf("%064x", j.first)}
		for i := range j.pages {
			j.pages[i].Thumb, j.pages[i].Preview = nil, nil
		}
		if err := s.Put(doc, j.pages); err != nil {
			return err
		}
		for _, p := range j.pages {
			for _, v := range p.Vectors {
				for k, x := range v {
					binary.LittleEndian.PutUint16(buf[2*k:], maxsim.FromFloat32(x))
				}
				if _, err := w.Write(buf); err != nil {
					return err
				}
			}
		}
	}
	return w.Flush()
}

// writeNpyHeader writes a NumPy format 1.0 header for a C-order array.
func writeNpyHeader(w *bufio.Writer, dtype string, shape ...int) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", dtype, sh)
	pad := 64 - (10+len(h)+1)%64
	h += strings.Repeat(" ", pad%64) + "\n"
	hdr := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	if _, err := w.Write(append(hdr, h...)); err != nil {
		return err
	}
	return nil
}

func writeNpyF32(path string, rows [][]float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	if err := writeNpyHeader(w, "<f4", len(rows), len(rows[0])); err != nil {
		return err
	}
	for _, r := range rows {
		for _, x := range r {
			binary.Write(w, binary.LittleEndian, x)
		}
	}
	return w.Flush()
}

// readNpyF32 reads a 1-D float32 .npy.
func readNpyF32(path string) ([]float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < 10 {
		return nil, fmt.Errorf("%s: not an npy file", path)
	}
	hl := int(raw[8]) | int(raw[9])<<8
	body := raw[10+hl:]
	out := make([]float32, len(body)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return out, nil
}

// numpyResult is the JSON line of scripts/bench/numpy_maxsim.py.
type numpyResult struct {
	PagesPerS        float64  `json:"pages_per_s"`
	GFLOPPerS        float64  `json:"gflop_per_s"`
	Seconds          float64  `json:"seconds"`
	ConvertSeconds   float64  `json:"convert_seconds"`
	PagesWithConvert float64  `json:"pages_per_s_with_f16_convert"`
	NumPy            string   `json:"numpy"`
	BLAS             []string `json:"blas"`
}

// openBLASDir is where Debian's libopenblas0-pthread puts its libblas.so.3.
const openBLASDir = "/usr/lib/x86_64-linux-gnu/openblas-pthread"

// runNumPy runs the NumPy baseline on the same data; ok is false (with a reason) when python3 or
// NumPy is missing.
func runNumPy(tb testing.TB, docsNpy, queryNpy, scoresNpy string) (res numpyResult, reason string) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		return res, "no /usr/bin/python3"
	}
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		return res, "python3 has no numpy"
	}
	script, err := filepath.Abs("../scripts/bench/numpy_maxsim.py")
	if err != nil {
		return res, err.Error()
	}
	cmd := exec.Command(py, script, "--docs", docsNpy, "--query", queryNpy, "--out", scoresNpy)
	threads := fmt.Sprint(runtime.GOMAXPROCS(0))
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS="+threads, "OMP_NUM_THREADS="+threads)
	if _, err := os.Stat(filepath.Join(openBLASDir, "libblas.so.3")); err == nil {
		cmd.Env = append(cmd.Env, "LD_LIBRARY_PATH="+openBLASDir)
	} else {
		tb.Logf("OpenBLAS not found in %s (apt install libopenblas0-pthread): NumPy uses the default BLAS", openBLASDir)
	}
	out, err := cmd.Output()
	if err != nil {
		return res, fmt.Sprintf("numpy baseline failed: %v", err)
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Sprintf("numpy baseline printed %q: %v", out, err)
	}
	return res, ""
}

// loadNote returns the 1-minute load average, to judge how much other work shared the cores.
func loadNote() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load unknown"
	}
	return fmt.Sprintf("load average %s on %d CPUs", strings.Fields(string(raw))[0], runtime.NumCPU())
}

func median(d []float64) float64 {
	s := append([]float64(nil), d...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// percentile returns the p-th percentile (0..100) by nearest rank.
func percentile(d []float64, p float64) float64 {
	s := append([]float64(nil), d...)
	sort.Float64s(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// overlap returns |a[:k] ∩ b[:k]| / k.
func overlap[T comparable](a, b []T, k int) float64 {
	in := map[T]bool{}
	for _, x := range b[:min(k, len(b))] {
		in[x] = true
	}
	n := 0
	for _, x := range a[:min(k, len(a))] {
		if in[x] {
			n++
		}
	}
	return float64(n) / float64(k)
}
