package modelbuild

// The safetensors format is small (a little-endian u64 header length, a JSON header, raw data) and the
// builder needs both a reader that converts bf16/fp16/fp32 to float32 and a deterministic writer, so it is
// implemented here rather than through a dependency (the one Go library has no releases and no writer).

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

// Tensor is a float32 tensor in row-major order.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// stEntry is one tensor's entry in a safetensors header.
type stEntry struct {
	Dtype   string   `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// readSafetensors reads every tensor of a safetensors file and converts it to float32. Integer tensors are
// refused (Idefics3 checkpoints hold none).
func readSafetensors(path string) (map[string]*Tensor, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseSafetensors(buf, path)
}

func parseSafetensors(buf []byte, path string) (map[string]*Tensor, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("%s: not a safetensors file (too short)", path)
	}
	hlen := binary.LittleEndian.Uint64(buf)
	if hlen > uint64(len(buf)-8) {
		return nil, fmt.Errorf("%s: not a safetensors file (header length %d past the end)", path, hlen)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(buf[8:8+hlen], &header); err != nil {
		return nil, fmt.Errorf("%s: bad safetensors header: %w", path, err)
	}
	data := buf[8+hlen:]
	out := make(map[string]*Tensor, len(header))
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %w", path, name, err)
		}
		n := numel(e.Shape)
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > int64(len(data)) {
			return nil, fmt.Errorf("%s: tensor %s: offsets %v outside the data", path, name, e.Offsets)
		}
		b := data[lo:hi]
		t := &Tensor{Shape: e.Shape, Data: make([]float32, n)}
		var size int64
		switch e.Dtype {
		case "F32":
			size = 4
		case "F16", "BF16":
			size = 2
		case "F64":
			size = 8
		default:
			return nil, fmt.Errorf("%s: tensor %s has dtype %s; only F32, F16, BF16 and F64 weights are supported", path, name, e.Dtype)
		}
		if int64(len(b)) != n*size {
			return nil, fmt.Errorf("%s: tensor %s: %d bytes for shape %v %s", path, name, len(b), e.Shape, e.Dtype)
		}
		for i := range t.Data {
			switch e.Dtype {
			case "F32":
				t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			case "F16":
				t.Data[i] = halfToFloat(binary.LittleEndian.Uint16(b[2*i:]))
			case "BF16":
				t.Data[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
			case "F64":
				t.Data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		}
		out[name] = t
	}
	return out, nil
}

// writeSafetensors writes tensors as F32 with names in sorted order, so the same tensors give the same bytes.
func writeSafetensors(path string, tensors map[string]*Tensor) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	var sb strings.Builder
	sb.WriteString("{")
	var off int64
	for i, n := range names {
		t := tensors[n]
		if i > 0 {
			sb.WriteString(",")
		}
		key, _ := json.Marshal(n)
		shape, _ := json.Marshal(t.Shape)
		if t.Shape == nil {
			shape = []byte("[]")
		}
		size := int64(len(t.Data)) * 4
		fmt.Fprintf(&sb, `%s:{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, key, shape, off, off+size)
		off += size
	}
	sb.WriteString("}")
	header := sb.String()
	for len(header)%8 != 0 {
		header += " "
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	var hl [8]byte
	binary.LittleEndian.PutUint64(hl[:], uint64(len(header)))
	_, err = f.Write(hl[:])
	if err == nil {
		_, err = f.WriteString(header)
	}
	for _, n := range names {
		if err != nil {
			break
		}
		_, err = f.Write(float32Bytes(tensors[n].Data))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// halfToFloat converts an IEEE 754 binary16 value to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(mant) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// floatToHalf converts float32 to binary16 with round-to-nearest-even.
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}

// halfBytes encodes v as little-endian float16.
func halfBytes(v []float32) []byte {
	out := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(out[2*i:], floatToHalf(x))
	}
	return out
}

// roundHalf rounds every value to the nearest float16, in place.
func roundHalf(v []float32) {
	for i, x := range v {
		v[i] = halfToFloat(floatToHalf(x))
	}
}
