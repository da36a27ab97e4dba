// Prefill micro-kernels: 16 weight rows against many activation rows at once.
//
// The row kernels (quant_dot.h) multiply one weight row by up to 4
// activation rows and must fold every 32-value group's partial sums out of
// the SIMD lanes, per weight row and per activation row; in prefill that
// reduction costs more than the multiplications. A tile kernel instead
// transposes 16 rows' codes (one super-block at a time, into scratch) so that
// SIMD lane r holds row r: one vpdpbusd with 4 activation bytes broadcast
// then advances 16 rows' sums at once, with no reduction at all. The
// transpose is paid once per super-block and shared by every activation row.
//
// Results are bit-identical to the row kernel of the same ISA (the integer
// sums are exact, and each output's float operations are the row kernel's,
// in its order), so a prompt evaluated at once still equals the same prompt
// token by token. The row kernel is the tile kernel's reference.
#pragma once

#include <cstdint>

#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/kernels/quant_dot_variants.h"

namespace ernie::cpu {

inline constexpr int kTileRows = 16;
// Activation rows per call: the float accumulators of this many rows live in
// the scratch (32 KB); more rows take several calls.
inline constexpr int kTileMaxActs = 64;

// Working memory of one call, provided by the caller (one per thread) so
// that the per-token path allocates nothing.
struct alignas(64) TileScratch {
  float acc[kTileMaxActs][8][kTileRows];  // per activation row, per 32-value group, per weight row
  uint8_t codes[8][8][4 * kTileRows];     // [group][4-value step][row]: the super-block's codes, transposed
  float scales[24][kTileRows];            // per-row scale vectors of the super-block (layout per type)
};

// out[a * kTileRows + r] = dot(row r, acts[a]) for r < kTileRows, a < n_acts
// (1..kTileMaxActs). rows[r] points at weight row r (n values of the type).
using QuantTileFn = void (*)(const uint8_t* const* rows, const quant::ActRowA8* acts, int n_acts, int64_t n,
                             float* out, TileScratch* scratch);

// The tile kernel for weights of type `t` on `isa`, or nullptr where there is
// none (then the row kernels do the work).
QuantTileFn quant_tile_kernel(DType t, Isa isa);

#ifdef ERNIE_KERNELS_X86
void q4_tile_avx2(const uint8_t* const* rows, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out,
                  TileScratch* scratch);
void q6_tile_avx2(const uint8_t* const* rows, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out,
                  TileScratch* scratch);
void q4_tile_avx512(const uint8_t* const* rows, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out,
                    TileScratch* scratch);
void q6_tile_avx512(const uint8_t* const* rows, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out,
                    TileScratch* scratch);
#endif

// The argument checks every tile kernel makes.
inline void check_quant_tile_args(int n_acts, int64_t n, int64_t block_values) {
  ERNIE_CHECK(n_acts >= 1 && n_acts <= kTileMaxActs, ERNIE_E_INVALID_ARGUMENT,
              "quantized tile: %d activation rows (1 to %d per call)", n_acts, kTileMaxActs);
  ERNIE_CHECK(n >= 0 && n % block_values == 0, ERNIE_E_INVALID_ARGUMENT,
              "quantized tile: row length %lld is not a whole number of %lld-value blocks",
              static_cast<long long>(n), static_cast<long long>(block_values));
}

}  // namespace ernie::cpu
