// Small numeric helpers shared by the block quantizers (lib/quant/q*.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "format/dtype.h"

namespace ernie::quant {

inline constexpr float kF16Max = 65504.0f;

// Copies `n` values into `dst` ready for the scale search: non-finite values
// become 0, values outside [lo, hi] (what the type can reconstruct at all)
// are clamped, and magnitudes below 2^-40, far below the smallest non-zero
// reconstruction (2^-24), become 0 so inverse scales stay finite.
inline void sanitize_block(const float* src, float* dst, int n, float lo, float hi) {
  const float tiny = 0x1p-40f;
  for (int i = 0; i < n; ++i) {
    const float v = src[i];
    const float a = std::fabs(v);
    dst[i] = !(a < INFINITY) || a < tiny ? 0.0f : std::clamp(v, lo, hi);
  }
}

// f16 bits of a non-negative super-block scale: rounded to nearest, at most
// 65504 (always finite) and, when v > 0, at least the smallest subnormal so a
// tiny block keeps codes rather than collapsing to 0.
inline uint16_t f16_scale_bits(float v) {
  if (!(v > 0.0f)) return 0;
  const uint16_t h = f32_to_f16(std::min(v, kF16Max));
  return h == 0 ? 1 : h;
}

// The smallest f16 scale >= v (at most 65504). A super-block scale of
// max / top rounded up keeps the largest sub-block within reach of the
// integer sub-scales; rounded down, that sub-block would clip. This matters
// most for small blocks, where f16 scales are subnormal and coarse.
inline uint16_t f16_scale_bits_up(float v) {
  uint16_t h = f16_scale_bits(v);
  if (h != 0 && h < 0x7bff && f16_to_f32(h) < v) ++h;
  return h;
}

}  // namespace ernie::quant
