// Package npy reads and writes NumPy .npy files (format version 1.0 written; 1.0, 2.0 and 3.0 read),
// little-endian, C order, for the element types colsmol exchanges with Python tools: float32, int64, bool and
// uint8.
//
// The format is small and fixed (numpy/lib/format.py): a magic string, a version, a header length, a Python dict
// literal with 'descr', 'fortran_order' and 'shape', padded so the data starts at a multiple of 64 bytes, then the
// raw elements. No Go library for it is in this module's dependency set, and the code is short, so it lives here.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Type descriptors (the 'descr' field) this package handles.
const (
	Float32 = "<f4"
	Int64   = "<i8"
	Bool    = "|b1"
	Uint8   = "|u1"
)

var magic = []byte("\x93NUMPY")

// Array is one n-dimensional array in C order. Exactly one of the data slices matches DType and holds
// product(Shape) elements.
type Array struct {
	Shape []int
	DType string // Float32, Int64, Bool or Uint8
	F32   []float32
	I64   []int64
	Bool  []bool
	U8    []uint8
}

// Len returns the number of elements the shape describes.
func (a *Array) Len() int { return shapeLen(a.Shape) }

func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// F32Array returns an Array of float32 values.
func F32Array(shape []int, data []float32) *Array {
	return &Array{Shape: shape, DType: Float32, F32: data}
}

// I64Array returns an Array of int64 values.
func I64Array(shape []int, data []int64) *Array { return &Array{Shape: shape, DType: Int64, I64: data} }

// BoolArray returns an Array of bool values.
func BoolArray(shape []int, data []bool) *Array { return &Array{Shape: shape, DType: Bool, Bool: data} }

// U8Array returns an Array of uint8 values.
func U8Array(shape []int, data []uint8) *Array { return &Array{Shape: shape, DType: Uint8, U8: data} }

func (a *Array) dataLen() (int, error) {
	switch a.DType {
	case Float32:
		return len(a.F32), nil
	case Int64:
		return len(a.I64), nil
	case Bool:
		return len(a.Bool), nil
	case Uint8:
		return len(a.U8), nil
	}
	return 0, fmt.Errorf("npy: unsupported dtype %q (want %s, %s, %s or %s)", a.DType, Float32, Int64, Bool, Uint8)
}

// header returns the complete version 1.0 header for the array.
func header(dtype string, shape []int) []byte {
	var sb strings.Builder
	sb.WriteString("{'descr': '")
	sb.WriteString(dtype)
	sb.WriteString("', 'fortran_order': False, 'shape': (")
	for i, d := range shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		sb.WriteString(",")
	}
	sb.WriteString("), }")
	// Like np.save, leave room to grow the first axis in place (numpy.lib.format GROWTH_AXIS_MAX_DIGITS = 21).
	if len(shape) > 0 {
		sb.WriteString(strings.Repeat(" ", 21-len(strconv.Itoa(shape[0]))))
	}
	dict := sb.String()
	// magic(6) + version(2) + length(2) + dict + padding + '\n' is padded to a multiple of 64; like NumPy, an
	// already aligned header still gets 64 spaces.
	total := 10 + len(dict) + 1
	pad := 64 - total%64
	h := make([]byte, 0, total+pad)
	h = append(h, magic...)
	h = append(h, 1, 0)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, bytes.Repeat([]byte{' '}, pad)...)
	return append(h, '\n')
}

// Write writes the array in .npy version 1.0 format.
func Write(w io.Writer, a *Array) error {
	n, err := a.dataLen()
	if err != nil {
		return err
	}
	for _, d := range a.Shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", a.Shape)
		}
	}
	if n != a.Len() {
		return fmt.Errorf("npy: shape %v needs %d elements, data has %d", a.Shape, a.Len(), n)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.Write(header(a.DType, a.Shape)); err != nil {
		return err
	}
	const chunk = 1 << 14
	buf := make([]byte, 8*chunk)
	switch a.DType {
	case Float32:
		for i := 0; i < len(a.F32); i += chunk {
			part := a.F32[i:min(i+chunk, len(a.F32))]
			for j, v := range part {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
			}
			if _, err := bw.Write(buf[:4*len(part)]); err != nil {
				return err
			}
		}
	case Int64:
		for i := 0; i < len(a.I64); i += chunk {
			part := a.I64[i:min(i+chunk, len(a.I64))]
			for j, v := range part {
				binary.LittleEndian.PutUint64(buf[8*j:], uint64(v))
			}
			if _, err := bw.Write(buf[:8*len(part)]); err != nil {
				return err
			}
		}
	case Bool:
		for _, v := range a.Bool {
			b := byte(0)
			if v {
				b = 1
			}
			if err := bw.WriteByte(b); err != nil {
				return err
			}
		}
	case Uint8:
		if _, err := bw.Write(a.U8); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteFile writes the array to path (created or truncated).
func WriteFile(path string, a *Array) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	if err := Write(f, a); err != nil {
		f.Close()
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	return nil
}

// ReadFile reads a .npy file.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	a, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("npy: read %s: %w", path, err)
	}
	return a, nil
}

// Read reads one array in .npy format (versions 1.0, 2.0 and 3.0, C order, little-endian or byte-sized types).
func Read(r io.Reader) (*Array, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	pre := make([]byte, 8)
	if _, err := io.ReadFull(br, pre); err != nil {
		return nil, fmt.Errorf("npy: reading magic: %w", err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return nil, errors.New("npy: not a .npy file (bad magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("npy: reading header length: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("npy: reading header length: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
		if hlen > 1<<20 {
			return nil, fmt.Errorf("npy: header of %d bytes is implausibly large", hlen)
		}
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d.%d", pre[6], pre[7])
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(br, hb); err != nil {
		return nil, fmt.Errorf("npy: reading header: %w", err)
	}
	dtype, fortran, shape, err := parseHeader(string(hb))
	if err != nil {
		return nil, err
	}
	if fortran {
		return nil, errors.New("npy: Fortran-order arrays are not supported; save with np.ascontiguousarray")
	}
	a := &Array{Shape: shape, DType: dtype}
	n := a.Len()
	if n < 0 || n > 1<<34 {
		return nil, fmt.Errorf("npy: shape %v is too large", shape)
	}
	switch dtype {
	case Float32:
		raw, err := readN(br, n, 4)
		if err != nil {
			return nil, err
		}
		a.F32 = make([]float32, n)
		for i := range a.F32 {
			a.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case Int64:
		raw, err := readN(br, n, 8)
		if err != nil {
			return nil, err
		}
		a.I64 = make([]int64, n)
		for i := range a.I64 {
			a.I64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	case Bool:
		raw, err := readN(br, n, 1)
		if err != nil {
			return nil, err
		}
		a.Bool = make([]bool, n)
		for i, b := range raw {
			a.Bool[i] = b != 0
		}
	case Uint8:
		raw, err := readN(br, n, 1)
		if err != nil {
			return nil, err
		}
		a.U8 = raw
	default:
		return nil, fmt.Errorf("npy: unsupported dtype %q (want %s, %s, %s or %s)", dtype, Float32, Int64, Bool, Uint8)
	}
	return a, nil
}

// readN reads n elements of size bytes. It grows the buffer as data arrives, so a header that claims a huge
// shape cannot make it allocate more than the data actually present (plus one chunk).
func readN(r io.Reader, n, size int) ([]byte, error) {
	total := n * size
	const chunk = 1 << 24
	raw := make([]byte, 0, min(total, chunk))
	for len(raw) < total {
		k := min(total-len(raw), chunk)
		if cap(raw)-len(raw) < k {
			grown := make([]byte, len(raw), min(max(2*cap(raw), len(raw)+k), total))
			copy(grown, raw)
			raw = grown
		}
		m, err := io.ReadFull(r, raw[len(raw):len(raw)+k])
		raw = raw[:len(raw)+m]
		if err != nil {
			return nil, fmt.Errorf("npy: data shorter than the header's shape says (%d of %d bytes): %w", len(raw), total, err)
		}
	}
	return raw, nil
}

// parseHeader reads the Python dict literal of a .npy header.
func parseHeader(h string) (dtype string, fortran bool, shape []int, err error) {
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(h, "{") || !strings.HasSuffix(h, "}") {
		return "", false, nil, fmt.Errorf("npy: malformed header %q", h)
	}
	value := func(key string) (string, bool) {
		for _, q := range []string{"'", "\""} {
			i := strings.Index(h, q+key+q)
			if i < 0 {
				continue
			}
			rest := strings.TrimSpace(h[i+len(key)+2:])
			if !strings.HasPrefix(rest, ":") {
				return "", false
			}
			return strings.TrimSpace(rest[1:]), true
		}
		return "", false
	}
	d, ok := value("descr")
	if !ok || len(d) < 2 || (d[0] != '\'' && d[0] != '"') {
		return "", false, nil, fmt.Errorf("npy: header has no descr: %q", h)
	}
	end := strings.IndexByte(d[1:], d[0])
	if end < 0 {
		return "", false, nil, fmt.Errorf("npy: malformed descr in %q", h)
	}
	dtype = d[1 : 1+end]
	switch dtype { // byte-sized types may be written with '<' or '=' or '|'
	case "<b1", "=b1", "b1", "?", "|?":
		dtype = Bool
	case "<u1", "=u1", "u1", "B":
		dtype = Uint8
	}
	f, ok := value("fortran_order")
	if !ok {
		return "", false, nil, fmt.Errorf("npy: header has no fortran_order: %q", h)
	}
	fortran = strings.HasPrefix(f, "True")
	s, ok := value("shape")
	if !ok || !strings.HasPrefix(s, "(") {
		return "", false, nil, fmt.Errorf("npy: header has no shape: %q", h)
	}
	close := strings.IndexByte(s, ')')
	if close < 0 {
		return "", false, nil, fmt.Errorf("npy: malformed shape in %q", h)
	}
	shape = []int{}
	for _, part := range strings.Split(s[1:close], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		part = strings.TrimSuffix(part, "L")
		v, err := strconv.Atoi(part)
		if err != nil || v < 0 {
			return "", false, nil, fmt.Errorf("npy: bad dimension %q in shape", part)
		}
		shape = append(shape, v)
	}
	return dtype, fortran, shape, nil
}
