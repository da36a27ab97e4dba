// Dot products of quantized weight rows with quantized activation rows: the
// inner loop of every matrix product on quantized weights. Each type has a
// scalar reference (the definition, in integer arithmetic per block) and SIMD
// variants next to it in <type>_dot.cpp, picked once at run time.
#pragma once

#include <cstdint>

#include "format/dtype.h"
#include "quant/blocks.h"

namespace ernie::cpu {

// Instruction sets with kernels, lowest first. Avx512Gfni is Avx512Vnni
// plus GFNI, whose byte-wise bit-matrix instruction unpacks the q2, q4 and
// q6 codes in one step instead of a shift and a mask (docs/kernels.md).
enum class Isa { Scalar = 0, Avx2 = 1, Avx512Vnni = 2, Avx512Gfni = 3 };
inline constexpr Isa kIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512Vnni, Isa::Avx512Gfni};

// The best Isa this CPU runs; ERNIE_CPU_ISA=scalar|avx2|avx512|avx512gfni in
// the environment lowers it (never raises it past what the CPU has).
Isa detect_isa();
const char* isa_name(Isa isa);

// out[j] = sum over i < n of w[i] * a_j[i] (both dequantized), for j < n_acts
// (1..4). Several activation rows per call let prefill reuse each unpacked
// weight block. `w` is one row of type t (n a multiple of its block size).
using QuantDotFn = void (*)(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);

// The kernel for weights of type `t` on `isa`; nullptr if `t` is not quantized
// or stores rows in groups (q4x8: quant_group_dot_kernel).
QuantDotFn quant_dot_kernel(DType t, Isa isa);

// For types that store rows in groups (dtype_row_group > 1: q4x8): `w` is one
// group of 8 rows and out[8 * j + r] = row r times activation row j (j < n_acts,
// 1..4). The same bits for any n_acts, so prefill equals decode.
using QuantGroupDotFn = QuantDotFn;
QuantGroupDotFn quant_group_dot_kernel(DType t, Isa isa);

}  // namespace ernie::cpu
