package ort

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	onnx "github.com/yalue/onnxruntime_go"
)

// Options configure a [Session]. The zero value means: all cores, CPU.
type Options struct {
	// Threads is the number of intra-op threads; 0 means one per core (runtime.NumCPU()).
	Threads int
	// Device is "cpu" (or "") or "cuda". "cuda" needs a CUDA build of ONNX Runtime 1.24 with its CUDA
	// provider library beside it; [NewSession] fails with a clear message otherwise.
	Device string
}

// ErrClosed is returned by [Session.Run] after [Session.Close].
var ErrClosed = errors.New("session is closed")

// ErrNotInitialized is returned by [NewSession] before a successful [Init].
var ErrNotInitialized = errors.New("ONNX Runtime is not initialised; call ort.Init first")

// Session is one ONNX graph loaded into ONNX Runtime. It is safe for concurrent use.
type Session struct {
	path    string
	inputs  []ValueInfo
	outputs []ValueInfo

	mu     sync.RWMutex // Run holds it for reading, Close for writing
	sess   *onnx.DynamicAdvancedSession
	closed bool
}

// NewSession loads the ONNX file at path with full graph optimisation (ORT_ENABLE_ALL), opts.Threads
// intra-op threads and one inter-op thread, on the CPU or, with opts.Device "cuda", on the GPU.
func NewSession(path string, opts Options) (*Session, error) {
	if !initialized() {
		return nil, ErrNotInitialized
	}
	inputs, outputs, err := graphInfo(path)
	if err != nil {
		return nil, fmt.Errorf("open model %s: %w", path, err)
	}
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("open model %s: %w", path, err)
	}
	defer so.Destroy()
	names := func(vs []ValueInfo) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = v.Name
		}
		return out
	}
	sess, err := onnx.NewDynamicAdvancedSession(path, names(inputs), names(outputs), so)
	if err != nil {
		return nil, fmt.Errorf("open model %s in ONNX Runtime: %w", path, err)
	}
	return &Session{path: path, inputs: inputs, outputs: outputs, sess: sess}, nil
}

// sessionOptions translates Options into ONNX Runtime session options.
func sessionOptions(opts Options) (*onnx.SessionOptions, error) {
	so, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("create session options: %w", err)
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"set intra-op threads", func() error { return so.SetIntraOpNumThreads(threads) }},
		{"set inter-op threads", func() error { return so.SetInterOpNumThreads(1) }},
		{"set graph optimisation", func() error { return so.SetGraphOptimizationLevel(onnx.GraphOptimizationLevelEnableAll) }},
		{"select device", func() error { return appendDevice(so, opts.Device) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return so, nil
}

// appendDevice adds the execution provider for device ("cpu" needs none).
func appendDevice(so *onnx.SessionOptions, device string) error {
	switch device {
	case "", "cpu":
		return nil
	case "cuda":
		cuda, err := onnx.NewCUDAProviderOptions()
		if err == nil {
			defer cuda.Destroy()
			err = so.AppendExecutionProviderCUDA(cuda)
		}
		if err != nil {
			return fmt.Errorf("--device cuda: the ONNX Runtime library %s cannot use CUDA (%v); "+
				"pass a CUDA build of ONNX Runtime %s.x with --ort-lib (its libonnxruntime_providers_cuda.so "+
				"and libonnxruntime_providers_shared.so must sit beside it, and CUDA 12 with cuDNN 9 must be installed), "+
				"or use --device cpu", LibraryPath(), err, WantVersion)
		}
		return nil
	default:
		return fmt.Errorf("unknown device %q; choose cpu or cuda", device)
	}
}

// Path returns the ONNX file the session was loaded from.
func (s *Session) Path() string { return s.path }

// InputNames returns the graph's input names in declaration order.
func (s *Session) InputNames() []string { return valueNames(s.inputs) }

// OutputNames returns the graph's output names in declaration order.
func (s *Session) OutputNames() []string { return valueNames(s.outputs) }

// Inputs describes the graph's inputs (name, element type, declared dimensions).
func (s *Session) Inputs() []ValueInfo { return slices.Clone(s.inputs) }

// Outputs describes the graph's outputs.
func (s *Session) Outputs() []ValueInfo { return slices.Clone(s.outputs) }

// HasInput reports whether the graph has an input of that name.
func (s *Session) HasInput(name string) bool {
	return slices.ContainsFunc(s.inputs, func(v ValueInfo) bool { return v.Name == name })
}

func valueNames(vs []ValueInfo) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}

// Run feeds every graph input from in and returns the outputs named in outNames (all outputs when
// outNames is empty). Input data is used in place, not copied; outputs are fresh Go slices.
func (s *Session) Run(in map[string]Tensor, outNames []string) (map[string]Tensor, error) {
	return s.RunContext(context.Background(), in, outNames)
}

// RunContext is [Session.Run] that stops the computation early when ctx is cancelled.
func (s *Session) RunContext(ctx context.Context, in map[string]Tensor, outNames []string) (map[string]Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("run %s: %w", s.path, ErrClosed)
	}
	if len(outNames) == 0 {
		outNames = s.OutputNames()
	}
	want, err := s.outputIndexes(outNames)
	if err != nil {
		return nil, err
	}
	inputs, err := s.inputValues(in)
	defer destroyAll(inputs)
	if err != nil {
		return nil, err
	}
	outputs := make([]onnx.Value, len(s.outputs))
	defer destroyAll(outputs)
	if err := s.runWithCancel(ctx, inputs, outputs); err != nil {
		return nil, err
	}
	result := make(map[string]Tensor, len(want))
	for _, i := range want {
		t, err := fromValue(outputs[i])
		if err != nil {
			return nil, fmt.Errorf("run %s: output %s: %w", s.path, s.outputs[i].Name, err)
		}
		result[s.outputs[i].Name] = t
	}
	return result, nil
}

// runWithCancel runs the graph, terminating it if ctx is cancelled first.
func (s *Session) runWithCancel(ctx context.Context, inputs, outputs []onnx.Value) error {
	var ro *onnx.RunOptions
	if ctx.Done() != nil {
		var err error
		if ro, err = onnx.NewRunOptions(); err != nil {
			return fmt.Errorf("run %s: %w", s.path, err)
		}
		defer ro.Destroy()
		stop := context.AfterFunc(ctx, func() { _ = ro.Terminate() })
		defer stop()
	}
	if err := s.sess.RunWithOptions(inputs, outputs, ro); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("run %s: %w", s.path, ctx.Err())
		}
		return fmt.Errorf("run %s: %w", s.path, err)
	}
	return nil
}

// outputIndexes maps requested output names to their positions.
func (s *Session) outputIndexes(names []string) ([]int, error) {
	idx := make([]int, len(names))
	for k, name := range names {
		i := slices.IndexFunc(s.outputs, func(v ValueInfo) bool { return v.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("run %s: no output %q; the graph's outputs are: %s", s.path, name, strings.Join(s.OutputNames(), ", "))
		}
		idx[k] = i
	}
	return idx, nil
}

// inputValues checks in against the graph's inputs and wraps the data as ONNX Runtime values, in the
// graph's input order. On error the values made so far are returned too, for the caller to destroy.
func (s *Session) inputValues(in map[string]Tensor) ([]onnx.Value, error) {
	for name := range in {
		if !s.HasInput(name) {
			return nil, fmt.Errorf("run %s: the graph has no input %q; its inputs are: %s", s.path, name, strings.Join(s.InputNames(), ", "))
		}
	}
	values := make([]onnx.Value, 0, len(s.inputs))
	for _, info := range s.inputs {
		t, ok := in[info.Name]
		if !ok {
			return values, fmt.Errorf("run %s: input %q is missing; the graph's inputs are: %s", s.path, info.Name, strings.Join(s.InputNames(), ", "))
		}
		if err := t.validate(); err != nil {
			return values, fmt.Errorf("run %s: input %q: %w", s.path, info.Name, err)
		}
		if info.Type != "" && info.Type != t.Type() {
			return values, fmt.Errorf("run %s: input %q must be %s, got %s", s.path, info.Name, info.Type, t.Type())
		}
		v, err := toValue(t)
		if err != nil {
			return values, fmt.Errorf("run %s: input %q: %w", s.path, info.Name, err)
		}
		values = append(values, v)
	}
	return values, nil
}

// toValue wraps t's data (without copying) as an ONNX Runtime tensor.
func toValue(t Tensor) (onnx.Value, error) {
	shape := onnx.NewShape(t.Shape...)
	switch {
	case t.F32 != nil:
		return onnx.NewTensor(shape, t.F32)
	case t.I64 != nil:
		return onnx.NewTensor(shape, t.I64)
	default:
		return onnx.NewTensor(shape, t.Bool)
	}
}

// fromValue copies an output value into a Tensor (the binding already holds it in Go memory).
func fromValue(v onnx.Value) (Tensor, error) {
	shape := []int64(v.GetShape())
	switch x := v.(type) {
	case *onnx.Tensor[float32]:
		return Tensor{Shape: shape, F32: x.GetData()}, nil
	case *onnx.Tensor[int64]:
		return Tensor{Shape: shape, I64: x.GetData()}, nil
	case *onnx.Tensor[bool]:
		return Tensor{Shape: shape, Bool: x.GetData()}, nil
	case *onnx.CustomDataTensor:
		if x.DataType() == onnx.TensorElementDataTypeFloat16 {
			return Tensor{Shape: shape, F32: f16ToF32(x.GetData())}, nil
		}
	}
	return Tensor{}, fmt.Errorf("unsupported output type %T (float32, float16, int64 and bool are supported)", v)
}

// destroyAll frees ONNX Runtime values; nil entries are skipped.
func destroyAll(vs []onnx.Value) {
	for _, v := range vs {
		if v != nil {
			_ = v.Destroy()
		}
	}
}

// Close waits for runs in flight, then frees the session. Further Runs fail with [ErrClosed]; closing
// twice is harmless.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.sess.Destroy(); err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}
