// The loop every tile kernel (quant_tile.h) shares: per super-block, prefetch
// the rows' blocks ahead, transpose the current ones into scratch, multiply
// the inputs 4 at a time, and finally fold each output's 8 group sums.
#pragma once

#include <cstring>

#include "backends/cpu/kernels/quant_tile.h"
#include "backends/cpu/kernels/simd_x86.h"

#ifdef ERNIE_KERNELS_X86

namespace ernie::cpu {

// Blocks ahead that a tile requests while it works (2 and 4 measured alike
// on the 21B-A3B prompt, both far better than none).
inline constexpr int64_t kTilePrefetchBlocks = 4;

// prepare(blk, scratch): transposes the 16 blocks blk[r] (row r's current
// super-block) into scratch.codes and scratch.scales.
// multiply(std::integral_constant<int, N>, acts, sb, acc): adds N inputs'
// products with super-block sb to their accumulators acc[0..N).
template <int64_t kBlockBytes, typename Prepare, typename Multiply>
ERNIE_TARGET_AVX512 void run_tile_loop(const uint8_t* const* rows, const quant::ActRowA8* acts, int n_acts, int64_t n,
                                       float* out, TileScratch* scratch, Prepare prepare, Multiply multiply) {
  check_quant_tile_args(n_acts, n, quant::kSuperBlockValues);
  TileScratch& t = *scratch;
  std::memset(t.acc, 0, sizeof(t.acc[0]) * n_acts);
  const uint8_t* blk[kTileRows];
  for (int64_t sb = 0; sb < n / quant::kSuperBlockValues; ++sb) {
    for (int r = 0; r < kTileRows; ++r) blk[r] = rows[r] + sb * kBlockBytes;
    simd::prefetch_tile_blocks<kBlockBytes>(blk, kTilePrefetchBlocks);  // past a row's end: the next row's start
    prepare(blk, t);
    for (int i0 = 0; i0 < n_acts; i0 += 4) {
      with_n_acts(n_acts - i0, [&](auto k) { multiply(k, acts + i0, sb, t.acc + i0); });
    }
  }
  simd::store_tile_sums(t.acc, n_acts, out);
}

}  // namespace ernie::cpu

#endif  // ERNIE_KERNELS_X86
