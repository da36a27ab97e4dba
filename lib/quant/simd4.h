// Four-float vectors (GCC/Clang vector extensions): one SSE register on
// x86-64, one NEON register on ARM. The quantizers' inner loops are written
// with them because GCC does not vectorize clamp-and-round loops by itself.
// Lane-wise IEEE arithmetic, so results are the same on every target.
#pragma once

#include <cstring>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace ernie::quant {

using F4 = float __attribute__((vector_size(16)));
using I4 = int __attribute__((vector_size(16)));

inline F4 load4(const float* p) {
  F4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline F4 splat4(float f) { return F4{} + f; }

// a < b ? a : b and a > b ? a : b per lane. minps/maxps compute exactly that
// (NaN and equal lanes give b) but GCC emits a compare-and-blend instead.
#if defined(__SSE__)
inline F4 min4(F4 a, F4 b) {
  return reinterpret_cast<F4>(_mm_min_ps(reinterpret_cast<__m128>(a), reinterpret_cast<__m128>(b)));
}
inline F4 max4(F4 a, F4 b) {
  return reinterpret_cast<F4>(_mm_max_ps(reinterpret_cast<__m128>(a), reinterpret_cast<__m128>(b)));
}
#else
inline F4 min4(F4 a, F4 b) { return a < b ? a : b; }
inline F4 max4(F4 a, F4 b) { return a > b ? a : b; }
#endif
inline F4 abs4(F4 v) { return v < 0.0f ? -v : v; }
inline float sum4(F4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }
inline float max_lane4(F4 v) {
  const float a = v[0] > v[1] ? v[0] : v[1], b = v[2] > v[3] ? v[2] : v[3];
  return a > b ? a : b;
}

// Nearest integer codes in [0, hi] of finite lanes: v + 0.5 clamped to
// [0, hi + 0.5] and truncated, i.e. floor(v + 0.5) limited to [0, hi].
inline I4 round_codes4(F4 v, float hi) {
  return __builtin_convertvector(min4(max4(v + 0.5f, splat4(0.0f)), splat4(hi + 0.5f)), I4);
}
inline F4 to_float4(I4 v) { return __builtin_convertvector(v, F4); }

}  // namespace ernie::quant
