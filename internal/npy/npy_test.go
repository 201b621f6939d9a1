package npy

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The files in testdata were written by NumPy's np.save (scripts/goldens/vlm/npy_goldens.py); the expected
// arrays restate the closed forms used there.
func goldenArrays() map[string]*Array {
	f := make([]float32, 6)
	for i := range f {
		f[i] = (float32(i) - 2.5) / 4
	}
	ones := make([]int, 21)
	for i := range ones {
		ones[i] = 1
	}
	ones[20] = 2
	return map[string]*Array{
		"f32_2x3":       F32Array([]int{2, 3}, f),
		"f32_special":   F32Array([]int{6}, []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(1), math.MaxFloat32}),
		"i64_5":         I64Array([]int{5}, []int64{0, 1, -1, 1 << 62, math.MinInt64}),
		"bool_2x2":      BoolArray([]int{2, 2}, []bool{true, false, false, true}),
		"u8_3x1x2":      U8Array([]int{3, 1, 2}, []uint8{250, 251, 252, 253, 254, 255}),
		"i64_1x0":       I64Array([]int{1, 0}, []int64{}),
		"f32_scalar":    F32Array([]int{}, []float32{7.5}),
		"u8_long_shape": U8Array(ones, []uint8{0, 0}),
	}
}

func TestReadNumPyFiles(t *testing.T) {
	for name, want := range goldenArrays() {
		t.Run(name, func(t *testing.T) {
			got, err := ReadFile(filepath.Join("testdata", name+".npy"))
			if err != nil {
				t.Fatal(err)
			}
			if got.DType != want.DType || !reflect.DeepEqual(got.Shape, want.Shape) {
				t.Fatalf("got %s %v, want %s %v", got.DType, got.Shape, want.DType, want.Shape)
			}
			switch want.DType {
			case Float32:
				for i := range want.F32 {
					if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) {
						t.Errorf("element %d = %g, want %g", i, got.F32[i], want.F32[i])
					}
				}
			case Int64:
				if !reflect.DeepEqual(got.I64, want.I64) {
					t.Errorf("got %v, want %v", got.I64, want.I64)
				}
			case Bool:
				if !reflect.DeepEqual(got.Bool, want.Bool) {
					t.Errorf("got %v, want %v", got.Bool, want.Bool)
				}
			case Uint8:
				if !bytes.Equal(got.U8, want.U8) {
					t.Errorf("got %v, want %v", got.U8, want.U8)
				}
			}
		})
	}
}

// Writing must reproduce np.save byte for byte (same header text, padding and data).
func TestWriteMatchesNumPyBytes(t *testing.T) {
	for name, a := range goldenArrays() {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", name+".npy"))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, a); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("bytes differ from np.save:\n got %q\nwant %q", buf.Bytes(), want)
			}
		})
	}
}

func TestWriteFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	a := F32Array([]int{2, 2, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8})
	if err := WriteFile(path, a); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip: got %+v, want %+v", b, a)
	}
}

func TestRejects(t *testing.T) {
	if err := Write(&bytes.Buffer{}, F32Array([]int{2, 2}, []float32{1})); err == nil {
		t.Error("shape/data mismatch accepted")
	}
	if err := Write(&bytes.Buffer{}, &Array{Shape: []int{1}, DType: "<f8"}); err == nil {
		t.Error("unsupported dtype accepted")
	}
	good, _ := os.ReadFile(filepath.Join("testdata", "f32_2x3.npy"))
	cases := map[string][]byte{
		"empty":     nil,
		"bad magic": append([]byte("\x93NUMPZ"), good[6:]...),
		"truncated": good[:len(good)-3],
		"version 9": append(append([]byte{}, good[:6]...), append([]byte{9, 0}, good[8:]...)...),
		"fortran":   bytes.Replace(good, []byte("'fortran_order': False"), []byte("'fortran_order': True "), 1),
		"f8":        bytes.Replace(good, []byte("'<f4'"), []byte("'<f8'"), 1),
		"big end":   bytes.Replace(good, []byte("'<f4'"), []byte("'>f4'"), 1),
	}
	for name, data := range cases {
		if _, err := Read(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A header claiming a huge shape over a few bytes of data fails without allocating the claimed size.
func TestReadHugeShapeShortData(t *testing.T) {
	var buf bytes.Buffer
	buf.Write(header(Float32, []int{1 << 16, 1 << 16, 16})) // 256 Gi elements claimed
	buf.Write(make([]byte, 100))
	if _, err := Read(&buf); err == nil {
		t.Fatal("accepted")
	}
	var big bytes.Buffer
	a := U8Array([]int{3, 1 << 23}, make([]uint8, 3<<23)) // 24 MiB: crosses the read chunk size
	for i := range a.U8 {
		a.U8[i] = uint8(i * 7)
	}
	if err := Write(&big, a); err != nil {
		t.Fatal(err)
	}
	b, err := Read(&big)
	if err != nil || !bytes.Equal(a.U8, b.U8) {
		t.Fatalf("large round trip: %v", err)
	}
}

// Damaged files give an error, never a panic.
func TestReadDamaged(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "f32_2x3.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(good); i++ {
		for _, v := range []byte{0, '(', ')', ',', '9', '\'', 0xFF} {
			b := append([]byte(nil), good...)
			b[i] = v
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("byte %d = %q: panic %v", i, v, r)
					}
				}()
				_, _ = Read(bytes.NewReader(b))
			}()
		}
	}
}
