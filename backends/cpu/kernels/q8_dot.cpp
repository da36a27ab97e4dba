// q8 weights (blocks of 32 signed codes, one f16 scale) against int8
// activations: per block an exact integer dot, then scaled by d_w * d_a.
#include "format/dtype.h"
#include "backends/cpu/kernels/quant_dot_variants.h"
#include "backends/cpu/kernels/simd_x86.h"

namespace ernie::cpu {

using quant::ActRowA8;
using quant::BlockQ8;
using quant::kQ8BlockValues;

void q8_dot_scalar(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kQ8BlockValues);
  const auto* blocks = reinterpret_cast<const BlockQ8*>(w);
  const int64_t nb = n / kQ8BlockValues;
  for (int j = 0; j < n_acts; ++j) {
    const ActRowA8& a = acts[j];
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
      const int8_t* aq = a.q + b * kQ8BlockValues;
      int32_t isum = 0;
      for (int i = 0; i < kQ8BlockValues; ++i) isum += blocks[b].q[i] * aq[i];
      sum += f16_to_f32(blocks[b].d) * a.d[b] * static_cast<float>(isum);
    }
    out[j] = sum;
  }
}

#ifdef ERNIE_KERNELS_X86

// maddubs multiplies unsigned by signed bytes, so the weight's sign moves to
// the activation: |w| * (a * sign(w)) = w * a. Bounds: |w| <= 128 (the abs of
// -128 is 0x80, read as unsigned 128) and |a| <= 127 (activation codes are
// in [-127, 127]: quantize_acts scales by max|x| / 127), so a pair of
// products is at most 2 * 128 * 127 = 32512 < 32767: no int16 saturation.
// This adds one block into acc[j] for each activation row.
template <int N>
ERNIE_TARGET_AVX2 static inline void q8_avx2_block(const BlockQ8& blk, const ActRowA8* acts, int64_t b, __m256* acc) {
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.q));
  const __m256i wabs = _mm256_abs_epi8(wq);
  const float dw = _cvtsh_ss(blk.d);
  for (int j = 0; j < N; ++j) {
    const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acts[j].q + b * kQ8BlockValues));
    const __m256i p16 = _mm256_maddubs_epi16(wabs, _mm256_sign_epi8(aq, wq));
    const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
    acc[j] = _mm256_fmadd_ps(p, _mm256_set1_ps(dw * acts[j].d[b]), acc[j]);
  }
}

// Two accumulators (even/odd blocks) halve the FMA dependency chain.
template <int N>
ERNIE_TARGET_AVX2 static void q8_avx2(const BlockQ8* wb, const ActRowA8* acts, int64_t nb, float* out) {
  __m256 even[N], odd[N];
  for (int j = 0; j < N; ++j) even[j] = odd[j] = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 1 < nb; b += 2) {
    simd::prefetch_ahead<2 * sizeof(BlockQ8)>(&wb[b]);
    q8_avx2_block<N>(wb[b], acts, b, even);
    q8_avx2_block<N>(wb[b + 1], acts, b + 1, odd);
  }
  if (b < nb) q8_avx2_block<N>(wb[b], acts, b, even);
  for (int j = 0; j < N; ++j) out[j] = simd::hsum(_mm256_add_ps(even[j], odd[j]));
}

void q8_dot_avx2(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kQ8BlockValues);
  const auto* wb = reinterpret_cast<const BlockQ8*>(w);
  with_n_acts(n_acts, [&](auto k) { q8_avx2<decltype(k)::value>(wb, acts, n / kQ8BlockValues, out); });
}

// Two blocks per 512-bit step. vpdpbusd is also unsigned x signed, so the
// same sign transfer as AVX2 applies (negating a where w < 0 under a mask);
// it sums 4 products into int32 without saturation. An odd last block takes
// a 256-bit step.
template <int N>
ERNIE_TARGET_AVX512 static void q8_avx512(const BlockQ8* wb, const ActRowA8* acts, int64_t nb, float* out) {
  __m512 acc[N];
  __m256 tail[N];
  for (int j = 0; j < N; ++j) {
    acc[j] = _mm512_setzero_ps();
    tail[j] = _mm256_setzero_ps();
  }
  const __m512i zero = _mm512_setzero_si512();
  int64_t b = 0;
  for (; b + 1 < nb; b += 2) {
    simd::prefetch_ahead<2 * sizeof(BlockQ8)>(&wb[b]);
    const __m512i wq = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].q))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b + 1].q)), 1);
    const __m512i wabs = _mm512_abs_epi8(wq);
    const __mmask64 negative = _mm512_movepi8_mask(wq);
    const float dw0 = _cvtsh_ss(wb[b].d);
    const float dw1 = _cvtsh_ss(wb[b + 1].d);
    for (int j = 0; j < N; ++j) {
      const __m512i aq = _mm512_loadu_si512(acts[j].q + b * kQ8BlockValues);
      const __m512i as = _mm512_mask_sub_epi8(aq, negative, zero, aq);
      const __m512 p = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, wabs, as));
      const __m512 scale = _mm512_mask_broadcastss_ps(_mm512_set1_ps(dw0 * acts[j].d[b]), 0xFF00,
                                                      _mm_set_ss(dw1 * acts[j].d[b + 1]));
      acc[j] = _mm512_fmadd_ps(p, scale, acc[j]);
    }
  }
  if (b < nb) {
    const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].q));
    const __m256i wabs = _mm256_abs_epi8(wq);
    const float dw = _cvtsh_ss(wb[b].d);
    for (int j = 0; j < N; ++j) {
      const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acts[j].q + b * kQ8BlockValues));
      const __m256i p32 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), wabs, _mm256_sign_epi8(aq, wq));
      tail[j] = _mm256_mul_ps(_mm256_cvtepi32_ps(p32), _mm256_set1_ps(dw * acts[j].d[b]));
    }
  }
  for (int j = 0; j < N; ++j) out[j] = simd::hsum(acc[j]) + simd::hsum(tail[j]);
}

void q8_dot_avx512(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kQ8BlockValues);
  const auto* wb = reinterpret_cast<const BlockQ8*>(w);
  with_n_acts(n_acts, [&](auto k) { q8_avx512<decltype(k)::value>(wb, acts, n / kQ8BlockValues, out); });
}

#endif  // ERNIE_KERNELS_X86

}  // namespace ernie::cpu
