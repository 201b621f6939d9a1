package ort

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// tinyExpected holds the inputs of testdata/tiny.onnx and the outputs NumPy computed for them
// (testdata/make_tiny.py).
type tinyExpected struct {
	X        []float32 `json:"x"`
	XShape   []int64   `json:"x_shape"`
	IDs      []int64   `json:"ids"`
	IDsShape []int64   `json:"ids_shape"`
	Mask     []bool    `json:"mask"`
	Y        []float32 `json:"y"`
	YShape   []int64   `json:"y_shape"`
	IDs2     []int64   `json:"ids2"`
	Inv      []bool    `json:"inv"`
}

func loadTiny(t *testing.T) (*Session, tinyExpected) {
	t.Helper()
	mustInit(t)
	var want tinyExpected
	b, err := os.ReadFile(filepath.Join("testdata", "tiny_expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(filepath.Join("testdata", "tiny.onnx"), Options{Threads: 1})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, want
}

func (w tinyExpected) inputs() map[string]Tensor {
	return map[string]Tensor{
		"x":    F32(w.X, w.XShape...),
		"ids":  I64(w.IDs, w.IDsShape...),
		"mask": Bool(w.Mask, w.IDsShape...),
	}
}

func TestSession_Run(t *testing.T) {
	s, want := loadTiny(t)
	out, err := s.Run(want.inputs(), nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(out) != 3 {
		t.Fatalf("got %d outputs, want 3", len(out))
	}
	y := out["y"]
	if !reflect.DeepEqual(y.Shape, want.YShape) {
		t.Errorf("y shape %v, want %v", y.Shape, want.YShape)
	}
	for i := range want.Y {
		if math.Abs(float64(y.F32[i]-want.Y[i])) > 1e-5 {
			t.Errorf("y[%d] = %v, want %v", i, y.F32[i], want.Y[i])
		}
	}
	if got := out["ids2"]; !reflect.DeepEqual(got.I64, want.IDs2) || !reflect.DeepEqual(got.Shape, want.IDsShape) {
		t.Errorf("ids2 = %v %v, want %v %v", got.Shape, got.I64, want.IDsShape, want.IDs2)
	}
	if got := out["inv"]; !reflect.DeepEqual(got.Bool, want.Inv) {
		t.Errorf("inv = %v, want %v", got.Bool, want.Inv)
	}
}

func TestSession_Metadata(t *testing.T) {
	s, _ := loadTiny(t)
	if got := s.InputNames(); !reflect.DeepEqual(got, []string{"x", "ids", "mask"}) {
		t.Errorf("inputs %v", got)
	}
	if got := s.OutputNames(); !reflect.DeepEqual(got, []string{"y", "ids2", "inv"}) {
		t.Errorf("outputs %v", got)
	}
	in := s.Inputs()
	want := []ValueInfo{
		{Name: "x", Type: "float32", Dims: []int64{-1, 4}, DimNames: []string{"batch", ""}},
		{Name: "ids", Type: "int64", Dims: []int64{-1, -1}, DimNames: []string{"batch", "n"}},
		{Name: "mask", Type: "bool", Dims: []int64{-1, -1}, DimNames: []string{"batch", "n"}},
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("Inputs() = %+v, want %+v", in, want)
	}
	if !s.HasInput("mask") || s.HasInput("W") {
		t.Errorf("HasInput: initializers must not count as inputs")
	}
}

func TestSession_Run_SomeOutputs(t *testing.T) {
	s, want := loadTiny(t)
	out, err := s.Run(want.inputs(), []string{"ids2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || !reflect.DeepEqual(out["ids2"].I64, want.IDs2) {
		t.Errorf("got %v", out)
	}
}

func TestSession_Run_EmptyBatch(t *testing.T) {
	s, _ := loadTiny(t)
	out, err := s.Run(map[string]Tensor{
		"x":    F32([]float32{}, 0, 4),
		"ids":  I64([]int64{}, 0, 3),
		"mask": Bool([]bool{}, 0, 3),
	}, []string{"y"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := out["y"]; !reflect.DeepEqual(got.Shape, []int64{0, 3}) || len(got.F32) != 0 {
		t.Errorf("y = %v %v, want shape [0 3] and no data", got.Shape, got.F32)
	}
}

func TestSession_Run_Errors(t *testing.T) {
	s, want := loadTiny(t)
	tests := map[string]struct {
		in   func(map[string]Tensor)
		outs []string
		msg  string
	}{
		"missing input":     {in: func(m map[string]Tensor) { delete(m, "mask") }, msg: `input "mask" is missing; the graph's inputs are: x, ids, mask`},
		"unknown input":     {in: func(m map[string]Tensor) { m["pixel_values"] = F32([]float32{1}, 1) }, msg: `no input "pixel_values"; its inputs are: x, ids, mask`},
		"wrong type":        {in: func(m map[string]Tensor) { m["ids"] = F32(make([]float32, 6), 2, 3) }, msg: `input "ids" must be int64, got float32`},
		"length mismatch":   {in: func(m map[string]Tensor) { m["x"] = F32(make([]float32, 7), 2, 4) }, msg: "shape [2 4] needs 8 elements, the float32 data has 7"},
		"two data slices":   {in: func(m map[string]Tensor) { m["x"] = Tensor{Shape: []int64{1}, F32: []float32{1}, I64: []int64{1}} }, msg: "exactly one of F32, I64 or Bool"},
		"scalar":            {in: func(m map[string]Tensor) { m["x"] = Tensor{F32: []float32{1}} }, msg: "scalars are not supported"},
		"unknown output":    {outs: []string{"logits"}, msg: `no output "logits"; the graph's outputs are: y, ids2, inv`},
		"bad shape for ORT": {in: func(m map[string]Tensor) { m["x"] = F32(make([]float32, 6), 2, 3) }, msg: "tiny.onnx"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := want.inputs()
			if tc.in != nil {
				tc.in(in)
			}
			_, err := s.Run(in, tc.outs)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want it to contain %q", err, tc.msg)
			}
		})
	}
}

func TestSession_Run_Concurrent(t *testing.T) {
	s, want := loadTiny(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				out, err := s.Run(want.inputs(), []string{"ids2"})
				if err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(out["ids2"].I64, want.IDs2) {
					errs <- errors.New("wrong result under concurrency")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSession_Close(t *testing.T) {
	s, want := loadTiny(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Run(want.inputs(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
}

func TestSession_RunContext_Cancelled(t *testing.T) {
	s, want := loadTiny(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.RunContext(ctx, want.inputs(), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	out, err := s.RunContext(context.Background(), want.inputs(), []string{"inv"})
	if err != nil || !reflect.DeepEqual(out["inv"].Bool, want.Inv) {
		t.Errorf("after a cancelled run: %v %v", out, err)
	}
}

func TestNewSession_Errors(t *testing.T) {
	mustInit(t)
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	os.WriteFile(bad, []byte("\x0a\x05hello"), 0o644)
	tests := map[string]struct {
		path string
		opts Options
		msg  string
	}{
		"missing file":   {path: "testdata/nope.onnx", msg: "testdata/nope.onnx"},
		"not a model":    {path: bad, msg: "bad.onnx"},
		"unknown device": {path: "testdata/tiny.onnx", opts: Options{Device: "tpu"}, msg: `unknown device "tpu"; choose cpu or cuda`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := NewSession(tc.path, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want it to contain %q", err, tc.msg)
			}
		})
	}
}

// TestNewSession_CUDA checks that asking for CUDA either works (a CUDA build on a GPU machine) or fails
// with a message that says what to do.
func TestNewSession_CUDA(t *testing.T) {
	mustInit(t)
	s, err := NewSession(filepath.Join("testdata", "tiny.onnx"), Options{Device: "cuda"})
	if err == nil {
		s.Close()
		t.Skip("this ONNX Runtime has a working CUDA provider")
	}
	for _, w := range []string{"--device cuda", "cannot use CUDA", "--ort-lib", "--device cpu"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message lacks %q: %v", w, err)
		}
	}
}

func TestF16ToF32(t *testing.T) {
	// Values from the IEEE 754 binary16 definition.
	tests := map[uint16]float32{
		0x3c00: 1, 0xc000: -2, 0x3555: 0.333251953125, 0x7bff: 65504, 0x0001: 5.9604645e-08,
		0x0400: 6.1035156e-05, 0x0000: 0, 0x7c00: float32(math.Inf(1)),
	}
	for h, want := range tests {
		got := f16ToF32([]byte{byte(h), byte(h >> 8)})[0]
		if got != want {
			t.Errorf("f16 %#04x = %v, want %v", h, got, want)
		}
	}
	if neg := f16ToF32([]byte{0x00, 0x80})[0]; neg != 0 || !math.Signbit(float64(neg)) {
		t.Errorf("f16 0x8000 = %v, want -0", neg)
	}
}
