package ort

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"google.golang.org/protobuf/encoding/protowire"
)

// ValueInfo describes one graph input or output as the ONNX file declares it.
type ValueInfo struct {
	Name string
	// Type is the element type: "float32", "int64", "bool", "float16", ... ("" if not a tensor).
	Type string
	// Dims are the declared dimensions; -1 marks a symbolic or unknown one, named in DimNames.
	Dims     []int64
	DimNames []string
}

// Field numbers of onnx.proto (ModelProto, GraphProto, ValueInfoProto, TypeProto, TensorShapeProto,
// TensorProto) that graphInfo reads.
const (
	modelGraph        = 7
	graphInitializer  = 5
	graphInput        = 11
	graphOutput       = 12
	valueInfoName     = 1
	valueInfoType     = 2
	typeTensor        = 1
	tensorTypeElem    = 1
	tensorTypeShape   = 2
	shapeDim          = 1
	dimValue          = 1
	dimParam          = 2
	tensorProtoName   = 8
	sparseInitializer = 15
)

// elemTypeNames maps onnx.TensorProto.DataType values to names.
var elemTypeNames = map[uint64]string{
	1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
	9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 16: "bfloat16",
}

// graphInfo reads the declared inputs and outputs of an ONNX file without loading it into ONNX Runtime.
// Inputs that also have an initializer (overridable constants) are left out, as ONNX Runtime does.
//
// Written here rather than by unmarshalling the generated onnx.proto types because a full unmarshal
// copies every weight (hundreds of MB); this scans the memory-mapped file and skips the weights.
func graphInfo(path string) (inputs, outputs []ValueInfo, err error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, nil, err
	}
	defer unmap()
	graph, err := findField(data, modelGraph)
	if err != nil {
		return nil, nil, fmt.Errorf("read graph of %s: %w", path, err)
	}
	initializers := map[string]bool{}
	var ins, outs [][]byte
	err = eachField(graph, func(num protowire.Number, v []byte) error {
		switch num {
		case graphInitializer:
			name, err := stringField(v, tensorProtoName)
			initializers[name] = true
			return err
		case sparseInitializer:
			// SparseTensorProto.values (field 1) is a TensorProto carrying the name.
			values, err := findField(v, 1)
			if err == nil {
				name, _ := stringField(values, tensorProtoName)
				initializers[name] = true
			}
		case graphInput:
			ins = append(ins, v)
		case graphOutput:
			outs = append(outs, v)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read graph of %s: %w", path, err)
	}
	for _, b := range ins {
		vi, err := parseValueInfo(b)
		if err != nil {
			return nil, nil, fmt.Errorf("read inputs of %s: %w", path, err)
		}
		if !initializers[vi.Name] {
			inputs = append(inputs, vi)
		}
	}
	for _, b := range outs {
		vi, err := parseValueInfo(b)
		if err != nil {
			return nil, nil, fmt.Errorf("read outputs of %s: %w", path, err)
		}
		outputs = append(outputs, vi)
	}
	return inputs, outputs, nil
}

// parseValueInfo decodes a ValueInfoProto: name, tensor element type and shape.
func parseValueInfo(b []byte) (ValueInfo, error) {
	var vi ValueInfo
	err := eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case valueInfoName:
			vi.Name = string(v)
		case valueInfoType:
			tensor, err := findField(v, typeTensor)
			if err != nil {
				return nil // not a tensor type (sequence, map, ...)
			}
			return parseTensorType(tensor, &vi)
		}
		return nil
	})
	return vi, err
}

// parseTensorType decodes TypeProto.Tensor into vi.Type, vi.Dims and vi.DimNames.
func parseTensorType(b []byte, vi *ValueInfo) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if num == tensorTypeElem && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			vi.Type = elemTypeNames[v]
			if vi.Type == "" {
				vi.Type = fmt.Sprintf("onnx type %d", v)
			}
			b = b[n:]
			continue
		}
		if num == tensorTypeShape && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if err := eachField(v, func(num protowire.Number, dim []byte) error {
				if num != shapeDim {
					return nil
				}
				return parseDim(dim, vi)
			}); err != nil {
				return err
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

// parseDim appends one TensorShapeProto.Dimension to vi.
func parseDim(b []byte, vi *ValueInfo) error {
	value, name := int64(-1), ""
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == dimValue && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			value, n = int64(v), m
		case num == dimParam && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			name, n = string(v), m
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
		}
		b = b[n:]
	}
	vi.Dims = append(vi.Dims, value)
	vi.DimNames = append(vi.DimNames, name)
	return nil
}

// errNoField means a required message field is absent.
var errNoField = errors.New("field not found")

// eachField calls fn for every length-delimited field of the message b; other wire types are skipped.
func eachField(b []byte, fn func(num protowire.Number, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			if err := fn(num, v); err != nil {
				return err
			}
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		b = b[m:]
	}
	return nil
}

// findField returns the first length-delimited field num of message b.
func findField(b []byte, num protowire.Number) ([]byte, error) {
	var out []byte
	stop := errors.New("stop")
	err := eachField(b, func(n protowire.Number, v []byte) error {
		if n == num {
			out = v
			return stop
		}
		return nil
	})
	if err == stop {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: %d", errNoField, num)
}

// stringField returns the string field num of message b ("" if absent).
func stringField(b []byte, num protowire.Number) (string, error) {
	v, err := findField(b, num)
	if errors.Is(err, errNoField) {
		return "", nil
	}
	return string(v), err
}

// mapFile maps a file read-only into memory.
func mapFile(path string) ([]byte, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		return nil, nil, fmt.Errorf("%s is empty", path)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("map %s: %w", path, err)
	}
	return data, func() { _ = syscall.Munmap(data) }, nil
}
