#include "textflag.h"

// 255.0 as a float32.
DATA rgb8k255<>+0(SB)/4, $0x437f0000
GLOBL rgb8k255<>(SB), RODATA|NOPTR, $4

// float32(1.0/255).
DATA rgb8r255<>+0(SB)/4, $0x3b808081
GLOBL rgb8r255<>(SB), RODATA|NOPTR, $4

// VPERMD indices that undo the per-128-bit-lane interleaving of
// VPACKUSDW/VPACKUSWB: dwords a0-3 b0-3 c0-3 d0-3 a4-7 b4-7 c4-7 d4-7
// become a0-7 b0-7 c0-7 d0-7.
DATA rgb8perm<>+0(SB)/4, $0
DATA rgb8perm<>+4(SB)/4, $4
DATA rgb8perm<>+8(SB)/4, $1
DATA rgb8perm<>+12(SB)/4, $5
DATA rgb8perm<>+16(SB)/4, $2
DATA rgb8perm<>+20(SB)/4, $6
DATA rgb8perm<>+24(SB)/4, $3
DATA rgb8perm<>+28(SB)/4, $7
GLOBL rgb8perm<>(SB), RODATA|NOPTR, $32

// func hasAVX2FMA() bool
TEXT ·hasAVX2FMA(SB), NOSPLIT, $0-1
	MOVB $0, ret+0(FP)
	// Leaf 1: ECX bit 12 FMA, bit 27 OSXSAVE, bit 28 AVX.
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, DX
	ANDL $(1<<12 | 1<<27 | 1<<28), DX
	CMPL DX, $(1<<12 | 1<<27 | 1<<28)
	JNE  no
	// XCR0 bits 1 (SSE) and 2 (AVX): the OS saves XMM and YMM.
	XORL CX, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE  no
	// Leaf 7 subleaf 0: EBX bit 5 AVX2.
	MOVL $0, AX
	CPUID
	CMPL AX, $7
	JB   no
	MOVL $7, AX
	XORL CX, CX
	CPUID
	BTL  $5, BX
	JCC  no
	MOVB $1, ret+0(FP)
no:
	RET

// func toRGB8AVX2(dst *byte, src *float32, n int)
//
// Per sample: v = x·255 (VMULPS rounds as Go's float32 multiply does);
// v = max(v, 0) with v as the first and 0 as the second operand, so that a
// NaN v gives 0 (MAXPS returns its second operand when either is NaN);
// v = min(v, 255); truncate toward zero (VCVTTPS2DQ); the values are in
// 0..255, so the saturating packs are exact.
TEXT ·toRGB8AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS rgb8k255<>(SB), Y15
	VXORPS       Y14, Y14, Y14
	VMOVDQU      rgb8perm<>(SB), Y13

loop:
	VMULPS     (SI), Y15, Y0
	VMULPS     32(SI), Y15, Y1
	VMULPS     64(SI), Y15, Y2
	VMULPS     96(SI), Y15, Y3
	VMAXPS     Y14, Y0, Y0
	VMAXPS     Y14, Y1, Y1
	VMAXPS     Y14, Y2, Y2
	VMAXPS     Y14, Y3, Y3
	VMINPS     Y15, Y0, Y0
	VMINPS     Y15, Y1, Y1
	VMINPS     Y15, Y2, Y2
	VMINPS     Y15, Y3, Y3
	VCVTTPS2DQ Y0, Y0
	VCVTTPS2DQ Y1, Y1
	VCVTTPS2DQ Y2, Y2
	VCVTTPS2DQ Y3, Y3
	VPACKUSDW  Y1, Y0, Y0
	VPACKUSDW  Y3, Y2, Y2
	VPACKUSWB  Y2, Y0, Y0
	VPERMD     Y0, Y13, Y0
	VMOVDQU    Y0, (DI)
	ADDQ       $128, SI
	ADDQ       $32, DI
	SUBQ       $32, CX
	JNZ        loop
	VZEROUPPER
	RET

// func fromRGB8AVX2(dst *float32, src *byte, n int)
//
// Per sample: zero-extend to int32 and convert to float32 (exact), giving
// b; then q = b·r with r = float32(1/255), which is wrong in the last bit
// for 126 of the 256 bytes, corrected by one Newton step with fused
// multiply-adds: e = b - q·255 (exact), q += e·r. The result equals the
// correctly rounded float32(b)/255 for every byte (TestFromRGB8Exhaustive
// covers all 256 through this path) and is about 1.4 times as fast as
// VDIVPS, whose throughput bounded the loop.
TEXT ·fromRGB8AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS rgb8k255<>(SB), Y15
	VBROADCASTSS rgb8r255<>(SB), Y14

floop:
	VPMOVZXBD    (SI), Y0
	VPMOVZXBD    8(SI), Y1
	VPMOVZXBD    16(SI), Y2
	VPMOVZXBD    24(SI), Y3
	VCVTDQ2PS    Y0, Y0
	VCVTDQ2PS    Y1, Y1
	VCVTDQ2PS    Y2, Y2
	VCVTDQ2PS    Y3, Y3
	VMULPS       Y14, Y0, Y4
	VMULPS       Y14, Y1, Y5
	VMULPS       Y14, Y2, Y6
	VMULPS       Y14, Y3, Y7
	VFNMADD231PS Y15, Y4, Y0
	VFNMADD231PS Y15, Y5, Y1
	VFNMADD231PS Y15, Y6, Y2
	VFNMADD231PS Y15, Y7, Y3
	VFMADD213PS  Y4, Y14, Y0
	VFMADD213PS  Y5, Y14, Y1
	VFMADD213PS  Y6, Y14, Y2
	VFMADD213PS  Y7, Y14, Y3
	VMOVUPS   Y0, (DI)
	VMOVUPS   Y1, 32(DI)
	VMOVUPS   Y2, 64(DI)
	VMOVUPS   Y3, 96(DI)
	ADDQ      $32, SI
	ADDQ      $128, DI
	SUBQ      $32, CX
	JNZ       floop
	VZEROUPPER
	RET

// PSHUFB mask reversing the bytes of each of five 3-byte pixels; byte 15
// stays.
DATA swaprbmask<>+0(SB)/8, $0x0708030405000102
DATA swaprbmask<>+8(SB)/8, $0x0f0c0d0e090a0b06
GLOBL swaprbmask<>(SB), RODATA|NOPTR, $16

// func swapRBSSSE3(dst, src *byte, steps int)
TEXT ·swapRBSSSE3(SB), NOSPLIT, $0-24
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  steps+16(FP), CX
	MOVOU swaprbmask<>(SB), X1

sloop:
	MOVOU  (SI), X0
	PSHUFB X1, X0
	MOVOU  X0, (DI)
	ADDQ   $15, SI
	ADDQ   $15, DI
	DECQ   CX
	JNZ    sloop
	RET
