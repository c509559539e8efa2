// Package torchrand reproduces PyTorch's CPU random generator in Go, so that
// a seed means in comfyrt what it means in ComfyUI: the initial latent noise
// ComfyUI draws with torch.manual_seed(seed) and torch.randn on the CPU, and
// the step noise of its ancestral and LCM samplers.
//
// What it reproduces (PyTorch's CPUGeneratorImpl, at::mt19937,
// TransformationHelper.h and the CPU normal kernel of
// DistributionTemplates.h):
//
//   - ManualSeed: the engine is a standard 32-bit Mersenne Twister seeded
//     with the low 32 bits of the 64-bit seed (torch keeps the full value as
//     initial_seed but mt19937 takes uint32: seeds 5 and 2^32+5 draw the
//     same numbers); a negative Python seed reaches the generator as its
//     two's complement (use SeedFromInt64). The cached normal samples are
//     cleared.
//   - Randn(dst): torch.randn(n) in float32, n = len(dst), contiguous. For
//     n < 16 each value is a double-precision Box–Muller draw (two 53-bit
//     uniforms from random64, one value cached for the next draw — the cache
//     outlives the call, as in torch) rounded to float32. For n ≥ 16 torch
//     first fills the tensor with 24-bit uniforms, transforms it 16 at a
//     time (values j and j+8 of each block are a Box–Muller pair), and for a
//     size not a multiple of 16 draws 16 fresh uniforms for the last 16
//     places and transforms them again. On x86-64 with AVX2 (torch's usual
//     CPU capability) that transform is the 8-wide float32 code of
//     avx_mathfun.h (Cephes polynomials for log, sin and cos): PathAVX2,
//     the default, which this package computes operation by operation in
//     float32. Other CPUs (and ATEN_CPU_CAPABILITY=default) use libm's
//     logf/cosf/sinf: PathDefault, which this package computes in float64
//     and rounds (within one float32 ulp of libm).
//   - Rand(dst): torch.rand(n) in float32: 24-bit uniforms in [0, 1).
//   - The state continues across calls exactly as one torch.Generator does.
//
// Fills write into the caller's slice and never allocate. A Generator is not
// safe for concurrent use.
//
// The reference values in testdata come from scripts/reference/torchrand.py
// (PyTorch 1.13 on the CPU); the tests compare bit for bit.
package torchrand
