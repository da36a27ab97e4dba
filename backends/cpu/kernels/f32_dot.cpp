#include "backends/cpu/kernels/f32_dot.h"

#include "backends/cpu/kernels/simd_x86.h"

namespace ernie::cpu {

namespace {

// The fixed tree over the 32 lane sums: lanes l, l + 8, l + 16, l + 24 to 8,
// then ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)).
float add_lanes(const float acc[kF32DotLanes]) {
  float s[8];
  for (int l = 0; l < 8; ++l) s[l] = (acc[l] + acc[l + 8]) + (acc[l + 16] + acc[l + 24]);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

}  // namespace

float f32_dot_scalar(const float* a, const float* b, int64_t n) {
  float acc[kF32DotLanes] = {};
  for (int64_t i = 0; i < n; ++i) acc[i % kF32DotLanes] += a[i] * b[i];
  return add_lanes(acc);
}

#ifdef ERNIE_KERNELS_X86
// Products and sums rounded separately, as in the scalar definition (an FMA
// would round once and change the bits).
ERNIE_TARGET_AVX2 float f32_dot_avx2(const float* a, const float* b, int64_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + kF32DotLanes <= n; i += kF32DotLanes) {
    simd::prefetch_ahead<kF32DotLanes * sizeof(float)>(a + i);
    for (int k = 0; k < 4; ++k) {
      const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(a + i + 8 * k), _mm256_loadu_ps(b + i + 8 * k));
      acc[k] = _mm256_add_ps(acc[k], p);
    }
  }
  alignas(32) float lanes[kF32DotLanes];
  for (int k = 0; k < 4; ++k) _mm256_store_ps(lanes + 8 * k, acc[k]);
  for (; i < n; ++i) lanes[i % kF32DotLanes] += a[i] * b[i];  // no FMA: -ffp-contract=off (lib/CMakeLists.txt)
  return add_lanes(lanes);
}
#endif

F32DotFn f32_dot_kernel(Isa isa) {
#ifdef ERNIE_KERNELS_X86
  if (isa > cpu_supported_isa()) isa = cpu_supported_isa();
  if (isa >= Isa::Avx2) return f32_dot_avx2;
#endif
  (void)isa;
  return f32_dot_scalar;
}

}  // namespace ernie::cpu
