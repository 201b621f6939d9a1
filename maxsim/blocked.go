package maxsim

import "math"

const blockRows = 4 // query rows per kernel step

// panelWidth returns the document columns per kernel step: 48 (3 ZMM) with AVX-512, else 24 (3 YMM).
func panelWidth() int {
	if useWide {
		return 48
	}
	return 24
}

// padRows returns the query rows rounded up to a multiple of blockRows, the extra rows zero.
func padRows(vecs []float32, n, dim int) []float32 {
	rows := (n + blockRows - 1) / blockRows * blockRows
	out := make([]float32, rows*dim)
	copy(out, vecs)
	return out
}

// packHalf widens a dimension-major half page into s.page as panels of panelWidth columns and returns
// the number of panels. The last panel is filled up with copies of vector 0, which cannot change any
// maximum.
func (s *Scorer) packHalf(doc []uint16, n int) int {
	dim, width := s.q.Dim, panelWidth()
	panels := (n + width - 1) / width
	full := n / width
	s.page = grow(s.page, panels*dim*width)
	if full > 0 {
		if useWide {
			packPanels48(&s.page[0], &doc[0], n, dim, full)
		} else {
			packPanels(&s.page[0], &doc[0], n, dim, full)
		}
	}
	if full < panels {
		halfTableOnce.Do(initHalfTable)
		t := halfTable[:1<<16]
		base := full * dim * width
		for k := 0; k < dim; k++ {
			row := doc[k*n : (k+1)*n]
			dst := s.page[base+k*width : base+(k+1)*width]
			for c := range dst {
				j := full*width + c
				if j >= n {
					j = 0
				}
				dst[c] = t[row[j]]
			}
		}
	}
	return panels
}

// packFloat is packHalf for a dimension-major float32 page.
func (s *Scorer) packFloat(docT []float32, n int) int {
	dim, width := s.q.Dim, panelWidth()
	panels := (n + width - 1) / width
	s.page = grow(s.page, panels*dim*width)
	for p := 0; p < panels; p++ {
		for k := 0; k < dim; k++ {
			dst := s.page[(p*dim+k)*width : (p*dim+k+1)*width]
			for c := range dst {
				j := p*width + c
				if j >= n {
					j = 0
				}
				dst[c] = docT[k*n+j]
			}
		}
	}
	return panels
}

// scoreBlocked runs the assembly kernel over the packed page in s.page.
func (s *Scorer) scoreBlocked(panels int) float32 {
	q, dim := s.q, s.q.Dim
	lanes := panelWidth() / 3
	var out [blockRows * 16]float32
	var total float32
	for i := 0; i < q.N; i += blockRows {
		for l := range out {
			out[l] = float32(math.Inf(-1))
		}
		if useWide {
			maxBlock4x48(&s.qpad[i*dim], uintptr(dim*4), &s.page[0], panels, dim, &out)
		} else {
			maxBlock4x24(&s.qpad[i*dim], uintptr(dim*4), &s.page[0], panels, dim, (*[32]float32)(out[:32]))
		}
		for r := 0; r < blockRows && i+r < q.N; r++ {
			row := out[r*lanes : (r+1)*lanes]
			m := row[0]
			for _, v := range row[1:] {
				m = max(m, v)
			}
			total += m
		}
	}
	return total
}
