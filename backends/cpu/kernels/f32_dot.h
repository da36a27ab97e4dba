// The f32 dot product of float weight rows (MoE routers, which stay f32, and
// models packed unquantized) with float activations. The sum is defined
// lane-wise: lane l accumulates the products of elements i = l (mod 32) in
// order, then a fixed tree adds the 32 lanes. Every variant computes exactly
// that, so results do not depend on the CPU; 32 lanes are four independent
// AVX2 accumulators, enough to keep up with memory. `a` is the operand read
// from memory once (the weight row): the AVX2 variant requests it
// kPrefetchAhead bytes early, as the quantized kernels do; without that the
// routers read at 6.7 GB/s in decode, with it 17 (docs/kernels.md).
#pragma once

#include <cstdint>

#include "backends/cpu/kernels/quant_dot.h"

namespace ernie::cpu {

inline constexpr int kF32DotLanes = 32;

using F32DotFn = float (*)(const float* a, const float* b, int64_t n);

float f32_dot_scalar(const float* a, const float* b, int64_t n);
#ifdef ERNIE_KERNELS_X86
float f32_dot_avx2(const float* a, const float* b, int64_t n);
#endif

// The variant for `isa` (never wider than the CPU runs).
F32DotFn f32_dot_kernel(Isa isa);

}  // namespace ernie::cpu
