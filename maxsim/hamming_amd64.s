//go:build amd64 && !noasm

#include "textflag.h"

// Binary MaxSim kernel (AVX-512F + AVX512_VPOPCNTDQ). Codes are packed in blocks of 8 vectors:
// 8 low words, then the 8 high words of the same vectors (see PackCodes). For each query code it
// streams the page's blocks and keeps, per lane, the least Hamming distance, then reduces the lanes;
// it returns the sum over query codes of the least distance (needs AVX512VL for the reduction).

// func sumMinHamming8x2(q *uint64, nq int, d unsafe.Pointer, blocks int) int
TEXT ·sumMinHamming8x2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), SI
	MOVQ nq+8(FP), R8
	MOVQ d+16(FP), R9
	MOVQ blocks+24(FP), R10
	XORQ R11, R11
	TESTQ R8, R8
	JZ   done
	TESTQ R10, R10
	JZ   done

query:
	VPBROADCASTQ (SI), Z2
	VPBROADCASTQ 8(SI), Z3
	MOVQ         $0x7fffffff, AX
	VPBROADCASTQ AX, Z4
	VMOVDQU64    Z4, Z5
	MOVQ         R9, BX
	MOVQ         R10, CX
	SHRQ         $1, CX
	JZ           tail

pair:
	VMOVDQU64 (BX), Z0
	VMOVDQU64 64(BX), Z1
	VMOVDQU64 128(BX), Z6
	VMOVDQU64 192(BX), Z7
	VPXORQ    Z2, Z0, Z0
	VPXORQ    Z3, Z1, Z1
	VPXORQ    Z2, Z6, Z6
	VPXORQ    Z3, Z7, Z7
	VPOPCNTQ  Z0, Z0
	VPOPCNTQ  Z1, Z1
	VPOPCNTQ  Z6, Z6
	VPOPCNTQ  Z7, Z7
	VPADDQ    Z1, Z0, Z0
	VPADDQ    Z7, Z6, Z6
	VPMINUQ   Z0, Z4, Z4
	VPMINUQ   Z6, Z5, Z5
	ADDQ      $256, BX
	DECQ      CX
	JNZ       pair

tail:
	TESTQ $1, R10
	JZ    store
	VMOVDQU64 (BX), Z0
	VMOVDQU64 64(BX), Z1
	VPXORQ    Z2, Z0, Z0
	VPXORQ    Z3, Z1, Z1
	VPOPCNTQ  Z0, Z0
	VPOPCNTQ  Z1, Z1
	VPADDQ    Z1, Z0, Z0
	VPMINUQ   Z0, Z4, Z4

store:
	VPMINUQ       Z5, Z4, Z4
	VEXTRACTI64X4 $1, Z4, Y5
	VPMINUQ       Y5, Y4, Y4
	VEXTRACTI128  $1, Y4, X5
	VPMINUQ       X5, X4, X4
	VPSHUFD       $0x4e, X4, X5
	VPMINUQ       X5, X4, X4
	VMOVQ         X4, AX
	ADDQ          AX, R11
	ADDQ          $16, SI
	DECQ          R8
	JNZ           query
	VZEROUPPER

done:
	MOVQ R11, ret+32(FP)
	RET
