package vlm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A JPEG decoder (baseline, extended-sequential and progressive Huffman) that reproduces libjpeg-turbo's
// default output bit for bit: the integer "islow" inverse DCT with its range-limit table, then the fancy
// upsampling and colour conversion of yuv.go. Go's image/jpeg uses another IDCT (±1–3 levels off) and does not
// expose the coefficients, so the entropy decoding is done here too. The algorithms follow ITU-T T.81 (Annex F
// and G) and the documented behaviour of libjpeg's jidctint.c; anything unusual (arithmetic coding, lossless,
// 12-bit, DNL) makes decodeJPEGExact fail and DecodeImage falls back to image/jpeg.

var errJPEGUnsupported = errors.New("jpeg: feature not supported by the exact decoder")

// zigzag[k] is the natural (row-major) index of the k-th coefficient in zigzag order.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

type huffTable struct {
	lookup  [512]uint16 // 9-bit lookahead: value | length<<8; 0 when the code is longer
	maxcode [18]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []uint8
}

func buildHuff(counts [16]int, vals []uint8) (*huffTable, error) {
	h := &huffTable{vals: vals}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		h.valptr[l] = k
		h.mincode[l] = code
		if n > 0 {
			for i := int32(0); i < n; i++ {
				if l <= 9 {
					shift := 9 - l
					base := (code + i) << shift
					for j := int32(0); j < 1<<shift; j++ {
						if int(base+j) < len(h.lookup) {
							h.lookup[base+j] = uint16(vals[k+i]) | uint16(l)<<8
						}
					}
				}
			}
			code += n
			k += n
			h.maxcode[l] = code - 1
		} else {
			h.maxcode[l] = -1
		}
		if code > 1<<l {
			return nil, errors.New("jpeg: bad Huffman table")
		}
		code <<= 1
	}
	h.maxcode[17] = 1 << 30
	return h, nil
}

type jpegComp struct {
	id           uint8
	h, v, tq     int
	bw, bh       int     // blocks per row / column allocated (whole MCUs)
	downW, downH int     // component size in samples
	coefs        []int16 // quantised coefficients, natural order, 64 per block
	td, ta       int
	pred         int32
}

type jpegDecoder struct {
	data        []byte
	pos         int
	qt          [4][64]int32 // natural order
	qtSet       [4]bool
	dc, ac      [4]*huffTable
	comps       []*jpegComp
	w, h        int
	progressive bool
	maxH, maxV  int
	mcux, mcuy  int
	ri          int
	jfif, adobe bool
	transform   int
	eobrun      int
	// bit reader
	acc    uint64
	nbits  int
	marker bool // hit a marker: further bits read as zeros
	sawSOF bool
}

func (d *jpegDecoder) u16() (int, error) {
	if d.pos+2 > len(d.data) {
		return 0, errors.New("jpeg: truncated")
	}
	v := int(binary.BigEndian.Uint16(d.data[d.pos:]))
	d.pos += 2
	return v, nil
}

// decodeJPEGExact decodes a JPEG file to RGB as Pillow (libjpeg-turbo, default settings) does.
func decodeJPEGExact(data []byte) (*RGB, error) {
	d := &jpegDecoder{data: data}
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, errors.New("jpeg: missing SOI marker")
	}
	d.pos = 2
	for {
		// Find the next marker (skipping fill bytes).
		for d.pos < len(d.data) && d.data[d.pos] != 0xFF {
			d.pos++
		}
		for d.pos < len(d.data) && d.data[d.pos] == 0xFF {
			d.pos++
		}
		if d.pos >= len(d.data) {
			if d.sawSOF {
				break // missing EOI: use what was decoded, as libjpeg does
			}
			return nil, errors.New("jpeg: truncated before any image")
		}
		m := d.data[d.pos]
		d.pos++
		switch {
		case m == 0xD9: // EOI
			return d.finish()
		case m >= 0xD0 && m <= 0xD7, m == 0x01:
			continue
		}
		l, err := d.u16()
		if err != nil {
			return nil, err
		}
		if l < 2 || d.pos+l-2 > len(d.data) {
			return nil, errors.New("jpeg: bad segment length")
		}
		seg := d.data[d.pos : d.pos+l-2]
		switch m {
		case 0xC0, 0xC1, 0xC2:
			if d.sawSOF {
				return nil, errJPEGUnsupported
			}
			if err := d.parseSOF(seg, m == 0xC2); err != nil {
				return nil, err
			}
		case 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xDC:
			return nil, errJPEGUnsupported
		case 0xC4:
			if err := d.parseDHT(seg); err != nil {
				return nil, err
			}
		case 0xDB:
			if err := d.parseDQT(seg); err != nil {
				return nil, err
			}
		case 0xDD:
			if len(seg) < 2 {
				return nil, errors.New("jpeg: bad DRI")
			}
			d.ri = int(binary.BigEndian.Uint16(seg))
		case 0xE0:
			if len(seg) >= 5 && string(seg[:5]) == "JFIF\x00" {
				d.jfif = true
			}
		case 0xEE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe = true
				d.transform = int(seg[11])
			}
		case 0xDA:
			d.pos += l - 2
			if err := d.parseSOSAndDecode(seg); err != nil {
				return nil, err
			}
			continue
		}
		d.pos += l - 2
	}
	return d.finish()
}

func (d *jpegDecoder) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := int(seg[0]>>4), int(seg[0]&15)
		if tq > 3 || pq > 1 {
			return errors.New("jpeg: bad DQT")
		}
		n := 64 * (pq + 1)
		if len(seg) < 1+n {
			return errors.New("jpeg: short DQT")
		}
		for k := 0; k < 64; k++ {
			var v int32
			if pq == 0 {
				v = int32(seg[1+k])
			} else {
				v = int32(binary.BigEndian.Uint16(seg[1+2*k:]))
			}
			d.qt[tq][zigzag[k]] = v
		}
		d.qtSet[tq] = true
		seg = seg[1+n:]
	}
	return nil
}

func (d *jpegDecoder) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return errors.New("jpeg: short DHT")
		}
		tc, th := int(seg[0]>>4), int(seg[0]&15)
		if tc > 1 || th > 3 {
			return errors.New("jpeg: bad DHT")
		}
		var counts [16]int
		total := 0
		for i := 0; i < 16; i++ {
			counts[i] = int(seg[1+i])
			total += counts[i]
		}
		if total > 256 || len(seg) < 17+total {
			return errors.New("jpeg: bad DHT")
		}
		vals := append([]uint8(nil), seg[17:17+total]...)
		t, err := buildHuff(counts, vals)
		if err != nil {
			return err
		}
		if tc == 0 {
			d.dc[th] = t
		} else {
			d.ac[th] = t
		}
		seg = seg[17+total:]
	}
	return nil
}

func (d *jpegDecoder) parseSOF(seg []byte, progressive bool) error {
	if len(seg) < 6 || seg[0] != 8 {
		return errJPEGUnsupported // only 8-bit samples
	}
	d.h = int(binary.BigEndian.Uint16(seg[1:]))
	d.w = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if d.h == 0 || d.w == 0 || (nc != 1 && nc != 3 && nc != 4) || len(seg) < 6+3*nc {
		return errJPEGUnsupported
	}
	if int64(d.w)*int64(d.h) > maxPixels.Load() {
		return ErrImageTooLarge
	}
	d.progressive = progressive
	d.sawSOF = true
	d.maxH, d.maxV = 1, 1
	for i := 0; i < nc; i++ {
		c := &jpegComp{id: seg[6+3*i], h: int(seg[7+3*i] >> 4), v: int(seg[7+3*i] & 15), tq: int(seg[8+3*i])}
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return errors.New("jpeg: bad component")
		}
		d.maxH, d.maxV = max(d.maxH, c.h), max(d.maxV, c.v)
		d.comps = append(d.comps, c)
	}
	d.mcux = (d.w + 8*d.maxH - 1) / (8 * d.maxH)
	d.mcuy = (d.h + 8*d.maxV - 1) / (8 * d.maxV)
	for _, c := range d.comps {
		if d.maxH%c.h != 0 || d.maxV%c.v != 0 {
			return errJPEGUnsupported
		}
		c.bw, c.bh = d.mcux*c.h, d.mcuy*c.v
		c.downW = (d.w*c.h + d.maxH - 1) / d.maxH
		c.downH = (d.h*c.v + d.maxV - 1) / d.maxV
		c.coefs = make([]int16, c.bw*c.bh*64)
	}
	return nil
}

// ---- bit reader over entropy-coded data (0xFF00 stuffing; zeros after a marker)

func (d *jpegDecoder) fill() {
	for d.nbits <= 56 {
		var b byte
		if d.marker || d.pos >= len(d.data) {
			d.marker = true
		} else {
			b = d.data[d.pos]
			if b == 0xFF {
				next := byte(0)
				if d.pos+1 < len(d.data) {
					next = d.data[d.pos+1]
				}
				switch {
				case next == 0x00:
					d.pos += 2
				case next == 0xFF: // fill byte before a marker
					d.pos++
					continue
				default:
					d.marker = true
					b = 0
				}
			} else {
				d.pos++
			}
		}
		d.acc = d.acc<<8 | uint64(b)
		d.nbits += 8
	}
}

func (d *jpegDecoder) bits(n int) int32 {
	if n == 0 {
		return 0
	}
	if d.nbits < n {
		d.fill()
	}
	d.nbits -= n
	return int32(d.acc>>uint(d.nbits)) & (1<<n - 1)
}

func (d *jpegDecoder) bit() bool { return d.bits(1) != 0 }

func extend(v int32, s int) int32 {
	if s == 0 {
		return 0
	}
	if v < 1<<(s-1) {
		return v - (1 << s) + 1
	}
	return v
}

func (d *jpegDecoder) decodeHuff(t *huffTable) (int, error) {
	if t == nil {
		return 0, errors.New("jpeg: missing Huffman table")
	}
	if d.nbits < 16 {
		d.fill()
	}
	look := (d.acc >> uint(d.nbits-9)) & 511
	if e := t.lookup[look]; e != 0 {
		d.nbits -= int(e >> 8)
		return int(e & 255), nil
	}
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | d.bits(1)
		if code <= t.maxcode[l] {
			return int(t.vals[t.valptr[l]+code-t.mincode[l]]), nil
		}
	}
	return 0, errors.New("jpeg: bad Huffman code")
}

// restart consumes an expected RSTn marker and resets the decoder state.
func (d *jpegDecoder) restart() {
	d.nbits, d.acc, d.marker = 0, 0, false
	for d.pos+1 < len(d.data) {
		if d.data[d.pos] == 0xFF && d.data[d.pos+1] >= 0xD0 && d.data[d.pos+1] <= 0xD7 {
			d.pos += 2
			break
		}
		if d.data[d.pos] == 0xFF && d.data[d.pos+1] != 0 && d.data[d.pos+1] != 0xFF {
			break // another marker: leave it; the rest decodes as zeros
		}
		d.pos++
	}
	for _, c := range d.comps {
		c.pred = 0
	}
	d.eobrun = 0
}

func (d *jpegDecoder) parseSOSAndDecode(seg []byte) error {
	if !d.sawSOF || len(seg) < 1 {
		return errors.New("jpeg: SOS before SOF")
	}
	ns := int(seg[0])
	if ns < 1 || ns > 4 || len(seg) < 1+2*ns+3 {
		return errors.New("jpeg: bad SOS")
	}
	var comps []*jpegComp
	for i := 0; i < ns; i++ {
		id := seg[1+2*i]
		var c *jpegComp
		for _, x := range d.comps {
			if x.id == id {
				c = x
			}
		}
		if c == nil {
			return errors.New("jpeg: SOS names an unknown component")
		}
		c.td, c.ta = int(seg[2+2*i]>>4), int(seg[2+2*i]&15)
		if c.td > 3 || c.ta > 3 {
			return errors.New("jpeg: bad SOS table")
		}
		comps = append(comps, c)
	}
	ss, se := int(seg[1+2*ns]), int(seg[2+2*ns])
	ah, al := int(seg[3+2*ns]>>4), int(seg[3+2*ns]&15)
	if !d.progressive {
		ss, se, ah, al = 0, 63, 0, 0
	} else if ss > se || se > 63 || (ss == 0 && se != 0) || (ss > 0 && ns != 1) || al > 13 {
		return errors.New("jpeg: bad progressive scan parameters")
	}
	d.nbits, d.acc, d.marker, d.eobrun = 0, 0, false, 0
	for _, c := range comps {
		c.pred = 0
	}
	var mx, my int
	if ns == 1 {
		c := comps[0]
		mx, my = (c.downW+7)/8, (c.downH+7)/8
	} else {
		mx, my = d.mcux, d.mcuy
	}
	left := d.ri
	for y := 0; y < my; y++ {
		for x := 0; x < mx; x++ {
			if d.ri > 0 {
				if left == 0 {
					d.restart()
					left = d.ri
				}
				left--
			}
			if ns == 1 {
				c := comps[0]
				if err := d.decodeBlock(c, c.coefs[(y*c.bw+x)*64:][:64], ss, se, ah, al); err != nil {
					return err
				}
				continue
			}
			for _, c := range comps {
				for v := 0; v < c.v; v++ {
					for h := 0; h < c.h; h++ {
						bi := (y*c.v+v)*c.bw + x*c.h + h
						if err := d.decodeBlock(c, c.coefs[bi*64:][:64], ss, se, ah, al); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	// Leave pos at the next marker.
	for d.pos+1 < len(d.data) && !(d.data[d.pos] == 0xFF && d.data[d.pos+1] != 0 && (d.data[d.pos+1] < 0xD0 || d.data[d.pos+1] > 0xD7)) {
		d.pos++
	}
	return nil
}

func (d *jpegDecoder) decodeBlock(c *jpegComp, b []int16, ss, se, ah, al int) error {
	if ss == 0 && ah == 0 { // DC first (or sequential)
		t, err := d.decodeHuff(d.dc[c.td])
		if err != nil {
			return err
		}
		if t > 16 {
			return errors.New("jpeg: bad DC size")
		}
		c.pred += extend(d.bits(t), t)
		b[0] = int16(c.pred << al)
	} else if ss == 0 { // DC refinement
		if d.bit() {
			b[0] |= 1 << al
		}
	}
	if se == 0 {
		return nil
	}
	start := max(ss, 1)
	if ah == 0 {
		// AC first pass (or sequential).
		if d.eobrun > 0 {
			d.eobrun--
			return nil
		}
		for k := start; k <= se; k++ {
			rs, err := d.decodeHuff(d.ac[c.ta])
			if err != nil {
				return err
			}
			r, s := rs>>4, rs&15
			if s == 0 {
				if r == 15 {
					k += 15
					continue
				}
				if d.progressive {
					d.eobrun = 1<<r - 1
					if r > 0 {
						d.eobrun += int(d.bits(r))
					}
				}
				break
			}
			k += r
			if k > 63 {
				return errors.New("jpeg: AC index out of range")
			}
			b[zigzag[k]] = int16(extend(d.bits(s), s) << al)
		}
		return nil
	}
	// AC refinement (T.81 G.1.2.3).
	p1, m1 := int16(1)<<al, int16(-1)<<al
	refine := func(z int) {
		if d.bit() && b[z]&p1 == 0 {
			if b[z] >= 0 {
				b[z] += p1
			} else {
				b[z] += m1
			}
		}
	}
	k := start
	if d.eobrun == 0 {
		for ; k <= se; k++ {
			rs, err := d.decodeHuff(d.ac[c.ta])
			if err != nil {
				return err
			}
			r, s := rs>>4, rs&15
			var val int16
			if s != 0 {
				if d.bit() {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				d.eobrun = 1 << r
				if r > 0 {
					d.eobrun += int(d.bits(r))
				}
				break
			}
			// Skip r zero coefficients (refining the non-zero ones on the way), then place val.
			for k <= se {
				z := zigzag[k]
				if b[z] != 0 {
					refine(z)
				} else {
					if r == 0 {
						break
					}
					r--
				}
				k++
			}
			if val != 0 && k <= se {
				b[zigzag[k]] = val
			}
		}
	}
	if d.eobrun > 0 {
		for ; k <= se; k++ {
			if z := zigzag[k]; b[z] != 0 {
				refine(z)
			}
		}
		d.eobrun--
	}
	return nil
}

// ---- reconstruction

// idctRange is libjpeg's post-IDCT range-limit table indexed by (x & 1023) for a sample x before the +128 shift.
var idctRange [1024]uint8

func init() {
	for v := 0; v < 1024; v++ {
		switch {
		case v < 128:
			idctRange[v] = uint8(128 + v)
		case v < 512:
			idctRange[v] = 255
		case v < 896:
			idctRange[v] = 0
		default:
			idctRange[v] = uint8(v - 896)
		}
	}
}

// libjpeg jidctint.c constants: CONST_BITS = 13, PASS1_BITS = 2.
const (
	fix0298631336 = 2446
	fix0390180644 = 3196
	fix0541196100 = 4433
	fix0765366865 = 6270
	fix0899976223 = 7373
	fix1175875602 = 9633
	fix1501321110 = 12299
	fix1847759065 = 15137
	fix1961570560 = 16069
	fix2053119869 = 16819
	fix2562915447 = 20995
	fix3072711026 = 25172
	constBits     = 13
	pass1Bits     = 2
)

func descale(x int64, n uint) int64 { return (x + 1<<(n-1)) >> n }

// idctIslow is libjpeg's accurate integer inverse DCT of one dequantised block into 8×8 samples.
func idctIslow(in *[64]int64, out []uint8, stride int) {
	var ws [64]int64
	for col := 0; col < 8; col++ {
		if in[8+col] == 0 && in[16+col] == 0 && in[24+col] == 0 && in[32+col] == 0 && in[40+col] == 0 &&
			in[48+col] == 0 && in[56+col] == 0 {
			dc := in[col] << pass1Bits
			for r := 0; r < 8; r++ {
				ws[8*r+col] = dc
			}
			continue
		}
		z2, z3 := in[16+col], in[48+col]
		z1 := (z2 + z3) * fix0541196100
		tmp2 := z1 - z3*fix1847759065
		tmp3 := z1 + z2*fix0765366865
		z2, z3 = in[col], in[32+col]
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits
		t10, t13, t11, t12 := tmp0+tmp3, tmp0-tmp3, tmp1+tmp2, tmp1-tmp2
		o0, o1, o2, o3 := idctOdd(in[56+col], in[40+col], in[24+col], in[8+col])
		const n = constBits - pass1Bits
		ws[col] = descale(t10+o3, n)
		ws[56+col] = descale(t10-o3, n)
		ws[8+col] = descale(t11+o2, n)
		ws[48+col] = descale(t11-o2, n)
		ws[16+col] = descale(t12+o1, n)
		ws[40+col] = descale(t12-o1, n)
		ws[24+col] = descale(t13+o0, n)
		ws[32+col] = descale(t13-o0, n)
	}
	for r := 0; r < 8; r++ {
		w := ws[8*r : 8*r+8]
		o := out[r*stride : r*stride+8]
		const n = constBits + pass1Bits + 3
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := idctRange[descale(w[0], pass1Bits+3)&1023]
			for i := range o {
				o[i] = v
			}
			continue
		}
		z2, z3 := w[2], w[6]
		z1 := (z2 + z3) * fix0541196100
		tmp2 := z1 - z3*fix1847759065
		tmp3 := z1 + z2*fix0765366865
		tmp0 := (w[0] + w[4]) << constBits
		tmp1 := (w[0] - w[4]) << constBits
		t10, t13, t11, t12 := tmp0+tmp3, tmp0-tmp3, tmp1+tmp2, tmp1-tmp2
		o0, o1, o2, o3 := idctOdd(w[7], w[5], w[3], w[1])
		o[0] = idctRange[descale(t10+o3, n)&1023]
		o[7] = idctRange[descale(t10-o3, n)&1023]
		o[1] = idctRange[descale(t11+o2, n)&1023]
		o[6] = idctRange[descale(t11-o2, n)&1023]
		o[2] = idctRange[descale(t12+o1, n)&1023]
		o[5] = idctRange[descale(t12-o1, n)&1023]
		o[3] = idctRange[descale(t13+o0, n)&1023]
		o[4] = idctRange[descale(t13-o0, n)&1023]
	}
}

// idctOdd is the odd part of the islow IDCT for inputs y7, y5, y3, y1.
func idctOdd(t0, t1, t2, t3 int64) (int64, int64, int64, int64) {
	z1, z2, z3, z4 := t0+t3, t1+t2, t0+t2, t1+t3
	z5 := (z3 + z4) * fix1175875602
	t0 *= fix0298631336
	t1 *= fix2053119869
	t2 *= fix3072711026
	t3 *= fix1501321110
	z1 *= -fix0899976223
	z2 *= -fix2562915447
	z3 = z3*-fix1961570560 + z5
	z4 = z4*-fix0390180644 + z5
	return t0 + z1 + z3, t1 + z2 + z4, t2 + z2 + z3, t3 + z1 + z4
}

// plane returns the component's samples (downW × downH) after dequantisation and IDCT.
func (d *jpegDecoder) plane(c *jpegComp) ([]uint8, error) {
	if !d.qtSet[c.tq] {
		return nil, errors.New("jpeg: missing quantisation table")
	}
	q := &d.qt[c.tq]
	bwUsed, bhUsed := (c.downW+7)/8, (c.downH+7)/8
	stride := bwUsed * 8
	full := make([]uint8, stride*bhUsed*8)
	var blk [64]int64
	for by := 0; by < bhUsed; by++ {
		for bx := 0; bx < bwUsed; bx++ {
			co := c.coefs[(by*c.bw+bx)*64:][:64]
			for i := range blk {
				blk[i] = int64(co[i]) * int64(q[i])
			}
			idctIslow(&blk, full[by*8*stride+bx*8:], stride)
		}
	}
	out := make([]uint8, c.downW*c.downH)
	for y := 0; y < c.downH; y++ {
		copy(out[y*c.downW:(y+1)*c.downW], full[y*stride:y*stride+c.downW])
	}
	return out, nil
}

func (d *jpegDecoder) finish() (*RGB, error) {
	if !d.sawSOF {
		return nil, errors.New("jpeg: no image")
	}
	planes := make([][]uint8, len(d.comps))
	for i, c := range d.comps {
		p, err := d.plane(c)
		if err != nil {
			return nil, err
		}
		planes[i] = jpegUpsample(p, c.downW, c.downH, d.w, d.h, d.maxH/c.h, d.maxV/c.v)
	}
	out := NewRGB(d.w, d.h)
	n := d.w * d.h
	switch len(d.comps) {
	case 1:
		for i, v := range planes[0][:n] {
			out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = v, v, v
		}
	case 3:
		rgb := false
		if d.jfif {
			rgb = false
		} else if d.adobe {
			rgb = d.transform == 0
		} else {
			rgb = d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B'
		}
		y, cb, cr := planes[0], planes[1], planes[2]
		for i := 0; i < n; i++ {
			if rgb {
				out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = y[i], cb[i], cr[i]
				continue
			}
			yy := int32(y[i])
			out.Pix[3*i] = clip8(yy + jCrR[cr[i]])
			out.Pix[3*i+1] = clip8(yy + ((jCbG[cb[i]] + jCrG[cr[i]]) >> 16))
			out.Pix[3*i+2] = clip8(yy + jCbB[cb[i]])
		}
	case 4:
		// libjpeg gives CMYK (converting YCCK when the Adobe transform says so); Pillow reads it as inverted
		// ("CMYK;I") and converts to RGB with its cmyk2rgb.
		ycck := d.adobe && d.transform != 0
		for i := 0; i < n; i++ {
			var cmyk [4]int32
			if ycck {
				yy := int32(planes[0][i])
				cb, cr := planes[1][i], planes[2][i]
				cmyk[0] = 255 - int32(clip8(yy+jCrR[cr]))
				cmyk[1] = 255 - int32(clip8(yy+((jCbG[cb]+jCrG[cr])>>16)))
				cmyk[2] = 255 - int32(clip8(yy+jCbB[cb]))
				cmyk[3] = int32(planes[3][i])
			} else {
				for k := 0; k < 4; k++ {
					cmyk[k] = int32(planes[k][i])
				}
			}
			nk := uint32(cmyk[3]) // inverted K: 255 - (255 - k)
			for k := 0; k < 3; k++ {
				inv := uint32(255 - cmyk[k])
				out.Pix[3*i+k] = clip8(int32(nk) - int32(mulDiv255(inv, nk)))
			}
		}
	default:
		return nil, fmt.Errorf("jpeg: %d components: %w", len(d.comps), errJPEGUnsupported)
	}
	return out, nil
}
