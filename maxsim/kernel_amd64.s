//go:build amd64 && !noasm

#include "textflag.h"

// Register-blocked MaxSim kernel: 4 query rows × 24 document columns per step, 12 YMM accumulators.
// The document is packed in panels of 24 columns: panel p holds dim rows of 24 float32 values
// (see packPanels). For each panel the kernel forms the 4×24 block of dot products over all dim
// dimensions, then folds it into out[4][8], the running per-lane maxima of the 4 query rows.

// func maxBlock4x24(q *float32, qstride uintptr, d *float32, panels int, dim int, out *[32]float32)
TEXT ·maxBlock4x24(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ qstride+8(FP), BX
	MOVQ d+16(FP), DI
	MOVQ panels+24(FP), R8
	MOVQ dim+32(FP), R9
	MOVQ out+40(FP), R10
	LEAQ (SI)(BX*2), R11
	TESTQ R8, R8
	JZ   done

panel:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ SI, AX
	MOVQ R11, DX
	MOVQ R9, CX

kloop:
	VMOVUPS      (DI), Y12
	VMOVUPS      32(DI), Y13
	VMOVUPS      64(DI), Y14
	VBROADCASTSS (AX), Y15
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VFMADD231PS  Y14, Y15, Y2
	VBROADCASTSS (AX)(BX*1), Y15
	VFMADD231PS  Y12, Y15, Y3
	VFMADD231PS  Y13, Y15, Y4
	VFMADD231PS  Y14, Y15, Y5
	VBROADCASTSS (DX), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VFMADD231PS  Y14, Y15, Y8
	VBROADCASTSS (DX)(BX*1), Y15
	VFMADD231PS  Y12, Y15, Y9
	VFMADD231PS  Y13, Y15, Y10
	VFMADD231PS  Y14, Y15, Y11
	ADDQ         $4, AX
	ADDQ         $4, DX
	ADDQ         $96, DI
	DECQ         CX
	JNZ          kloop

	VMAXPS  Y1, Y0, Y0
	VMAXPS  Y2, Y0, Y0
	VMAXPS  (R10), Y0, Y0
	VMOVUPS Y0, (R10)
	VMAXPS  Y4, Y3, Y3
	VMAXPS  Y5, Y3, Y3
	VMAXPS  32(R10), Y3, Y3
	VMOVUPS Y3, 32(R10)
	VMAXPS  Y7, Y6, Y6
	VMAXPS  Y8, Y6, Y6
	VMAXPS  64(R10), Y6, Y6
	VMOVUPS Y6, 64(R10)
	VMAXPS  Y10, Y9, Y9
	VMAXPS  Y11, Y9, Y9
	VMAXPS  96(R10), Y9, Y9
	VMOVUPS Y9, 96(R10)
	DECQ    R8
	JNZ     panel
	VZEROUPPER

done:
	RET

// packPanels widens full panels of a dimension-major half page (dim rows of n values) into
// float32 panels of 24 columns: dst[p][k][0:24] = src[k*n + p*24 : k*n + p*24 + 24].
// func packPanels(dst *float32, src *uint16, n int, dim int, panels int)
TEXT ·packPanels(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), BX
	SHLQ $1, BX               // bytes per source row
	MOVQ dim+24(FP), R9
	MOVQ panels+32(FP), R8
	TESTQ R8, R8
	JZ   pdone
	TESTQ R9, R9
	JZ   pdone

ppanel:
	MOVQ SI, AX
	MOVQ R9, CX

prow:
	VCVTPH2PS (AX), Y0
	VCVTPH2PS 16(AX), Y1
	VCVTPH2PS 32(AX), Y2
	VMOVUPS   Y0, (DI)
	VMOVUPS   Y1, 32(DI)
	VMOVUPS   Y2, 64(DI)
	ADDQ      BX, AX
	ADDQ      $96, DI
	DECQ      CX
	JNZ       prow
	ADDQ      $48, SI
	DECQ      R8
	JNZ       ppanel
	VZEROUPPER

pdone:
	RET
