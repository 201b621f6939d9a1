package modelbuild

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"unsafe"

	"google.golang.org/protobuf/proto"

	"github.com/colsmol/colsmol/internal/modelbuild/onnxpb"
)

// Opset versions of the graphs this package writes.
const (
	onnxOpset = 17 // LayerNormalization is in opset 17; ORT fuses the rest from standard patterns.
	msOpset   = 1  // com.microsoft contrib operators (int8 graphs)
	irVersion = 8
)

// externalLimit: a model whose weights pass this size keeps them in a side file (protobuf's 2 GB cap);
// externalMinLen: tensors below this size stay inside the model file even then. Variables for tests.
var (
	externalLimit  int64 = 1800 << 20
	externalMinLen       = 1024
)

// Element types used by the graphs (onnx.TensorProto.DataType).
const (
	tFloat   = int32(onnxpb.TensorProto_FLOAT)
	tFloat16 = int32(onnxpb.TensorProto_FLOAT16)
	tInt64   = int32(onnxpb.TensorProto_INT64)
	tInt8    = int32(onnxpb.TensorProto_INT8)
	tUint8   = int32(onnxpb.TensorProto_UINT8)
	tBool    = int32(onnxpb.TensorProto_BOOL)
)

// graph accumulates the nodes, initializers, inputs and outputs of one ONNX graph. Values are named by strings;
// every helper returns the name of the value it produced.
type graph struct {
	name    string
	nodes   []*onnxpb.NodeProto
	inits   []*onnxpb.TensorProto
	inputs  []*onnxpb.ValueInfoProto
	outputs []*onnxpb.ValueInfoProto
	seq     int
	consts  map[string]string
	usesMS  bool
}

func newGraph(name string) *graph {
	return &graph{name: name, consts: map[string]string{}}
}

// fresh returns a new unique value name with the given stem.
func (g *graph) fresh(stem string) string {
	g.seq++
	return fmt.Sprintf("%s_%d", stem, g.seq)
}

// dim is a tensor dimension: an int (fixed size) or a string (symbolic name).
type dim = any

func valueInfo(name string, elem int32, dims []dim) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		switch v := d.(type) {
		case int:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}})
		case string:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: v}})
		default:
			panic(fmt.Sprintf("modelbuild: bad dim %v", d))
		}
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(elem), Shape: shape}}},
	}
}

// input declares a graph input.
func (g *graph) input(name string, elem int32, dims ...dim) string {
	g.inputs = append(g.inputs, valueInfo(name, elem, dims))
	return name
}

// output declares value v as the graph output name (through an Identity node when the names differ).
func (g *graph) output(name, v string, elem int32, dims ...dim) {
	if v != name {
		g.nodes = append(g.nodes, &onnxpb.NodeProto{OpType: proto.String("Identity"), Input: []string{v}, Output: []string{name}, Name: proto.String(name + "_out")})
	}
	g.outputs = append(g.outputs, valueInfo(name, elem, dims))
}

// attr is a node attribute.
type attr = *onnxpb.AttributeProto

func aInt(name string, v int64) attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func aInts(name string, v ...int64) attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func aFloat(name string, v float32) attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// op adds a node with one output and returns the output's name.
func (g *graph) op(opType string, inputs []string, attrs ...attr) string {
	return g.opN(opType, "", inputs, 1, attrs...)[0]
}

// msOp adds a com.microsoft contrib node with one output.
func (g *graph) msOp(opType string, inputs []string, attrs ...attr) string {
	g.usesMS = true
	return g.opN(opType, "com.microsoft", inputs, 1, attrs...)[0]
}

// opN adds a node with n outputs.
func (g *graph) opN(opType, domain string, inputs []string, n int, attrs ...attr) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.fresh(opType)
	}
	node := &onnxpb.NodeProto{OpType: proto.String(opType), Input: inputs, Output: out, Name: proto.String(out[0]), Attribute: attrs}
	if domain != "" {
		node.Domain = proto.String(domain)
	}
	g.nodes = append(g.nodes, node)
	return out
}

// float32Bytes returns the little-endian bytes of v without copying (all supported targets are little-endian).
func float32Bytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*4)
}

// initializer adds a named float32 weight of the given shape.
func (g *graph) initializer(name string, shape []int64, data []float32) string {
	if int64(len(data)) != numel(shape) {
		panic(fmt.Sprintf("modelbuild: initializer %s: %d values for shape %v", name, len(data), shape))
	}
	g.inits = append(g.inits, &onnxpb.TensorProto{Name: proto.String(name), Dims: shape, DataType: proto.Int32(tFloat), RawData: float32Bytes(data)})
	return name
}

// initializerHalf adds a weight stored as float16 (half the file size); callers cast it, or what they gather
// from it, to float32. A Cast of an initializer is folded once by ONNX Runtime when it loads the model.
func (g *graph) initializerHalf(name string, shape []int64, data []float32) string {
	g.inits = append(g.inits, &onnxpb.TensorProto{Name: proto.String(name), Dims: shape, DataType: proto.Int32(tFloat16), RawData: halfBytes(data)})
	return name
}

// rawInitializer adds an initializer of any element type from its little-endian bytes.
func (g *graph) rawInitializer(name string, elem int32, shape []int64, raw []byte) string {
	g.inits = append(g.inits, &onnxpb.TensorProto{Name: proto.String(name), Dims: shape, DataType: proto.Int32(elem), RawData: raw})
	return name
}

// constI64 returns a (cached) int64 constant of the given values; scalar when scalar is true, else 1-D.
func (g *graph) constI64(scalar bool, v ...int64) string {
	key := fmt.Sprintf("i64:%v:%v", scalar, v)
	if n, ok := g.consts[key]; ok {
		return n
	}
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	var dims []int64
	if !scalar {
		dims = []int64{int64(len(v))}
	}
	name := g.fresh("const_i64")
	g.inits = append(g.inits, &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(tInt64), RawData: raw})
	g.consts[key] = name
	return name
}

// constF32 returns a (cached) float32 scalar constant.
func (g *graph) constF32(v float32) string {
	key := fmt.Sprintf("f32:%08x", math.Float32bits(v))
	if n, ok := g.consts[key]; ok {
		return n
	}
	name := g.fresh("const_f32")
	g.inits = append(g.inits, &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(tFloat), RawData: float32Bytes([]float32{v})})
	g.consts[key] = name
	return name
}

// Convenience wrappers for the operators the builders use.

func (g *graph) matmul(a, b string) string { return g.op("MatMul", []string{a, b}) }
func (g *graph) add(a, b string) string    { return g.op("Add", []string{a, b}) }
func (g *graph) sub(a, b string) string    { return g.op("Sub", []string{a, b}) }
func (g *graph) mul(a, b string) string    { return g.op("Mul", []string{a, b}) }
func (g *graph) div(a, b string) string    { return g.op("Div", []string{a, b}) }

func (g *graph) reshape(x string, shape ...int64) string {
	return g.op("Reshape", []string{x, g.constI64(false, shape...)})
}

func (g *graph) transpose(x string, perm ...int64) string {
	return g.op("Transpose", []string{x}, aInts("perm", perm...))
}

func (g *graph) unsqueeze(x string, axes ...int64) string {
	return g.op("Unsqueeze", []string{x, g.constI64(false, axes...)})
}

func (g *graph) cast(x string, to int32) string {
	return g.op("Cast", []string{x}, aInt("to", int64(to)))
}

// shapeDim returns the int64 scalar size of dimension axis of x.
func (g *graph) shapeDim(x string, axis int64) string {
	s := g.op("Shape", []string{x})
	return g.op("Gather", []string{s, g.constI64(true, axis)}, aInt("axis", 0))
}

// sliceLast takes x[..., start:end] on the last axis.
func (g *graph) sliceLast(x string, start, end int64) string {
	return g.op("Slice", []string{x, g.constI64(false, start), g.constI64(false, end), g.constI64(false, -1)})
}

// split cuts x along axis into pieces of the given sizes.
func (g *graph) split(x string, axis int64, sizes ...int64) []string {
	return g.opN("Split", "", []string{x, g.constI64(false, sizes...)}, len(sizes), aInt("axis", axis))
}

// model wraps the graph into a ModelProto.
func (g *graph) model() *onnxpb.ModelProto {
	opsets := []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(onnxOpset)}}
	if g.usesMS {
		opsets = append(opsets, &onnxpb.OperatorSetIdProto{Domain: proto.String("com.microsoft"), Version: proto.Int64(msOpset)})
	}
	return &onnxpb.ModelProto{
		IrVersion:       proto.Int64(irVersion),
		ProducerName:    proto.String("colsmol modelbuild"),
		ProducerVersion: proto.String("1"),
		OpsetImport:     opsets,
		Graph: &onnxpb.GraphProto{
			Name:        proto.String(g.name),
			Node:        g.nodes,
			Initializer: g.inits,
			Input:       g.inputs,
			Output:      g.outputs,
		},
	}
}

// weightBytes is the total size of the graph's initializers.
func (g *graph) weightBytes() int64 {
	var n int64
	for _, t := range g.inits {
		n += int64(len(t.RawData))
	}
	return n
}

// marshal serialises the model deterministically (the same graph gives the same bytes).
func (g *graph) marshal() ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(g.model())
}

// save writes the model to path. Models whose weights exceed externalLimit keep their large tensors in
// path+"_data" (ONNX external data, offsets aligned to 4 KiB), because a protobuf message cannot pass 2 GB.
func (g *graph) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if g.weightBytes() <= externalLimit {
		b, err := g.marshal()
		if err != nil {
			return fmt.Errorf("serialise %s: %w", path, err)
		}
		return writeFileAtomic(path, b)
	}
	dataName := filepath.Base(path) + "_data"
	f, err := os.Create(path + "_data.tmp")
	if err != nil {
		return err
	}
	var off int64
	for _, t := range g.inits {
		if len(t.RawData) < externalMinLen {
			continue
		}
		if pad := (4096 - off%4096) % 4096; pad > 0 {
			if _, err := f.Write(make([]byte, pad)); err != nil {
				f.Close()
				return err
			}
			off += pad
		}
		if _, err := f.Write(t.RawData); err != nil {
			f.Close()
			return err
		}
		n := int64(len(t.RawData))
		t.RawData = nil
		t.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		t.ExternalData = []*onnxpb.StringStringEntryProto{
			{Key: proto.String("location"), Value: proto.String(dataName)},
			{Key: proto.String("offset"), Value: proto.String(fmt.Sprint(off))},
			{Key: proto.String("length"), Value: proto.String(fmt.Sprint(n))},
		}
		off += n
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(path+"_data.tmp", path+"_data"); err != nil {
		return err
	}
	b, err := g.marshal()
	if err != nil {
		return fmt.Errorf("serialise %s: %w", path, err)
	}
	return writeFileAtomic(path, b)
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}
