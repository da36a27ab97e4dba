// q4x8's byte moves (blocks.h): 8 q4 rows <-> their interleaved group.
// Header-only so that the CUDA plugin, which links nothing of the core,
// takes groups apart on upload with the same code.
#pragma once

#include <cstdint>
#include <cstring>

#include "quant/blocks.h"

namespace ernie::quant {

// 8 consecutive q4 rows of `nsb` blocks each (rows) -> one q4x8 group (dst).
inline void interleave_q4x8(const uint8_t* rows, int64_t nsb, uint8_t* dst) {
  const auto* src = reinterpret_cast<const BlockQ4*>(rows);
  for (int64_t sb = 0; sb < nsb; ++sb) {
    BlockQ4X8 g;
    for (int r = 0; r < kQ4X8Rows; ++r) {
      BlockQ4 b;
      std::memcpy(&b, src + r * nsb + sb, sizeof b);
      g.d[r] = b.d;
      g.dmin[r] = b.dmin;
      for (int j = 0; j < 8; ++j) g.scale_lo[j][r] = b.scales[j];
      for (int i = 0; i < 4; ++i) g.scale_hi[i][r] = b.scales[8 + i];
      for (int p = 0; p < 4; ++p) {
        for (int k = 0; k < 8; ++k) std::memcpy(&g.qs[p][k][4 * r], b.qs + 32 * p + 4 * k, 4);
      }
    }
    std::memcpy(dst + sb * sizeof(BlockQ4X8), &g, sizeof g);
  }
}

// One q4x8 group of `nsb` blocks per row (src) -> 8 consecutive q4 rows.
inline void deinterleave_q4x8(const uint8_t* src, int64_t nsb, uint8_t* rows) {
  auto* out = reinterpret_cast<BlockQ4*>(rows);
  for (int64_t sb = 0; sb < nsb; ++sb) {
    BlockQ4X8 g;
    std::memcpy(&g, src + sb * sizeof(BlockQ4X8), sizeof g);
    for (int r = 0; r < kQ4X8Rows; ++r) {
      BlockQ4 b;
      b.d = g.d[r];
      b.dmin = g.dmin[r];
      for (int j = 0; j < 8; ++j) b.scales[j] = g.scale_lo[j][r];
      for (int i = 0; i < 4; ++i) b.scales[8 + i] = g.scale_hi[i][r];
      for (int p = 0; p < 4; ++p) {
        for (int k = 0; k < 8; ++k) std::memcpy(b.qs + 32 * p + 4 * k, &g.qs[p][k][4 * r], 4);
      }
      std::memcpy(out + r * nsb + sb, &b, sizeof b);
    }
  }
}

}  // namespace ernie::quant
