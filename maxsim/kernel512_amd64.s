//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512 variant of maxBlock4x24: 4 query rows × 48 document columns (3 ZMM) per step, panels of
// 48 columns, out[4][16] running per-lane maxima.

// func maxBlock4x48(q *float32, qstride uintptr, d *float32, panels int, dim int, out *[64]float32)
TEXT ·maxBlock4x48(SB), NOSPLIT, $0-48
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
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	MOVQ SI, AX
	MOVQ R11, DX
	MOVQ R9, CX

kloop:
	VMOVUPS      (DI), Z12
	VMOVUPS      64(DI), Z13
	VMOVUPS      128(DI), Z14
	VBROADCASTSS (AX), Z15
	VFMADD231PS  Z12, Z15, Z0
	VFMADD231PS  Z13, Z15, Z1
	VFMADD231PS  Z14, Z15, Z2
	VBROADCASTSS (AX)(BX*1), Z16
	VFMADD231PS  Z12, Z16, Z3
	VFMADD231PS  Z13, Z16, Z4
	VFMADD231PS  Z14, Z16, Z5
	VBROADCASTSS (DX), Z17
	VFMADD231PS  Z12, Z17, Z6
	VFMADD231PS  Z13, Z17, Z7
	VFMADD231PS  Z14, Z17, Z8
	VBROADCASTSS (DX)(BX*1), Z18
	VFMADD231PS  Z12, Z18, Z9
	VFMADD231PS  Z13, Z18, Z10
	VFMADD231PS  Z14, Z18, Z11
	ADDQ         $4, AX
	ADDQ         $4, DX
	ADDQ         $192, DI
	DECQ         CX
	JNZ          kloop

	VMAXPS  Z1, Z0, Z0
	VMAXPS  Z2, Z0, Z0
	VMAXPS  (R10), Z0, Z0
	VMOVUPS Z0, (R10)
	VMAXPS  Z4, Z3, Z3
	VMAXPS  Z5, Z3, Z3
	VMAXPS  64(R10), Z3, Z3
	VMOVUPS Z3, 64(R10)
	VMAXPS  Z7, Z6, Z6
	VMAXPS  Z8, Z6, Z6
	VMAXPS  128(R10), Z6, Z6
	VMOVUPS Z6, 128(R10)
	VMAXPS  Z10, Z9, Z9
	VMAXPS  Z11, Z9, Z9
	VMAXPS  192(R10), Z9, Z9
	VMOVUPS Z9, 192(R10)
	DECQ    R8
	JNZ     panel
	VZEROUPPER

done:
	RET

// func packPanels48(dst *float32, src *uint16, n int, dim int, panels int)
TEXT ·packPanels48(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), BX
	SHLQ $1, BX
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
	VCVTPH2PS (AX), Z0
	VCVTPH2PS 32(AX), Z1
	VCVTPH2PS 64(AX), Z2
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	VMOVUPS   Z2, 128(DI)
	ADDQ      BX, AX
	ADDQ      $192, DI
	DECQ      CX
	JNZ       prow
	ADDQ      $96, SI
	DECQ      R8
	JNZ       ppanel
	VZEROUPPER

pdone:
	RET
