// quantize_acts: activation rows to int8 per 32 values (ActRowA8 in blocks.h).
// Runs once per matrix product per token, so the loops use 4-float vectors
// (simd4.h) and no data-dependent branches.
#include <cmath>

#include "quant/blocks.h"
#include "quant/quantize.h"
#include "quant/simd4.h"
#include "util/error.h"

namespace ernie::quant {
namespace {

// One block of 32 finite values.
void quantize_act_block(const float* x, int8_t* q, float* d, int16_t* s16, float* ds) {
  F4 m{};
  for (int i = 0; i < kQ8BlockValues; i += 4) m = max4(m, abs4(load4(x + i)));
  const float amax = max_lane4(m);
  *d = amax / 127.0f;
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  I4 sums[2] = {};
  for (int i = 0; i < kQ8BlockValues; i += 4) {
    const F4 v = min4(max4(load4(x + i) * inv, splat4(-127.0f)), splat4(127.0f));
    // nearest, ties away from 0: truncate v + 0.5 * sign(v)
    const I4 c = __builtin_convertvector(v + (v < 0.0f ? splat4(-0.5f) : splat4(0.5f)), I4);
    sums[i / 16] += c;
    for (int l = 0; l < 4; ++l) q[i + l] = static_cast<int8_t>(c[l]);
  }
  for (int h = 0; h < 2; ++h) s16[h] = static_cast<int16_t>((sums[h][0] + sums[h][1]) + (sums[h][2] + sums[h][3]));
  *ds = *d * static_cast<float>(s16[0] + s16[1]);
}

}  // namespace

void quantize_acts(const float* x, int64_t n, int8_t* q, float* d, int16_t* s16, float* ds) {
  ERNIE_CHECK(n >= 0 && n % kQ8BlockValues == 0, ERNIE_E_INVALID_ARGUMENT,
              "quantize_acts: %lld values are not a whole number of blocks of %d", static_cast<long long>(n),
              kQ8BlockValues);
  for (int64_t b = 0; b < n / kQ8BlockValues; ++b) {
    const float* xb = x + b * kQ8BlockValues;
    // x * 0 is 0 for every finite x and NaN otherwise: one cheap check per block.
    F4 z{};
    for (int i = 0; i < kQ8BlockValues; i += 4) z += load4(xb + i) * 0.0f;
    float clean[kQ8BlockValues];
    if (sum4(z) != 0.0f) {  // a non-finite value: treat it as 0
      for (int i = 0; i < kQ8BlockValues; ++i) clean[i] = std::isfinite(xb[i]) ? xb[i] : 0.0f;
      xb = clean;
    }
    quantize_act_block(xb, q + b * kQ8BlockValues, d + b, s16 + 2 * b, ds + b);
  }
}

}  // namespace ernie::quant
