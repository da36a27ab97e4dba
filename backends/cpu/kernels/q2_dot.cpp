// q2 weights (super-blocks of 256: 16 sub-blocks of 16 with 4-bit scale and
// min, 2-bit codes) against int8 activations. Per 32-value group g (one
// activation scale, sub-blocks 2g and 2g+1):
//   d_a[g] * (d * sum_j sc[j] * sum(q * a) - dmin * sum_j m[j] * s16[j])
// with both sums exact in integers.
#include "format/dtype.h"
#include "backends/cpu/kernels/quant_dot_variants.h"
#include "backends/cpu/kernels/simd_x86.h"

namespace ernie::cpu {

using quant::ActRowA8;
using quant::BlockQ2;
using quant::kSuperBlockValues;

void q2_dot_scalar(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* blocks = reinterpret_cast<const BlockQ2*>(w);
  const int64_t nsb = n / kSuperBlockValues;
  for (int j = 0; j < n_acts; ++j) {
    const ActRowA8& a = acts[j];
    float sum = 0.0f;
    for (int64_t sb = 0; sb < nsb; ++sb) {
      const BlockQ2& blk = blocks[sb];
      const float d = f16_to_f32(blk.d);
      const float dmin = f16_to_f32(blk.dmin);
      for (int g = 0; g < 8; ++g) {  // values 32g .. 32g + 31
        const uint8_t* qs = blk.qs + 32 * (g / 4);
        const int shift = 2 * (g % 4);
        const int64_t v0 = sb * kSuperBlockValues + 32 * g;
        int32_t scaled = 0, mins = 0;
        for (int t = 0; t < 2; ++t) {  // sub-block 2g + t
          const uint8_t packed = blk.scales[2 * g + t];
          int32_t isum = 0;
          for (int i = 16 * t; i < 16 * t + 16; ++i) isum += ((qs[i] >> shift) & 3) * a.q[v0 + i];
          scaled += (packed & 15) * isum;
          mins += (packed >> 4) * a.s16[v0 / 16 + t];
        }
        sum += a.d[v0 / 32] * (d * static_cast<float>(scaled) - dmin * static_cast<float>(mins));
      }
    }
    out[j] = sum;
  }
}

#ifdef ERNIE_KERNELS_X86

namespace {

struct Q2Scales {
  __m256i sc16;  // sc[j] as int16 lanes
  __m256i m16;   // m[j] as int16 lanes
  __m256 d;
  __m256 dmin;
};

ERNIE_TARGET_AVX2 inline Q2Scales q2_scales(const BlockQ2& blk) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));
  const __m128i low4 = _mm_set1_epi8(0x0F);
  Q2Scales s;
  s.sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(packed, low4));
  s.m16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), low4));
  s.d = _mm256_set1_ps(_cvtsh_ss(blk.d));
  s.dmin = _mm256_set1_ps(_cvtsh_ss(blk.dmin));
  return s;
}

// acc += d_a[g] * (d * isum[g] - dmin * (m[2g] * s16[2g] + m[2g+1] * s16[2g+1])).
// The min term is at most 2 * 15 * 2032 per lane.
ERNIE_TARGET_AVX2 inline __m256 q2_accumulate(__m256 acc, __m256i isum, const Q2Scales& s, const ActRowA8& a,
                                               int64_t sb) {
  const __m256 da = _mm256_loadu_ps(a.d + sb * 8);
  const __m256i s16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.s16 + sb * 16));
  const __m256 mins = _mm256_cvtepi32_ps(_mm256_madd_epi16(s16, s.m16));
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(s.d, da), acc);
  return _mm256_fnmadd_ps(mins, _mm256_mul_ps(s.dmin, da), acc);
}

}  // namespace

// Codes are 0..3 and |a| <= 127: a maddubs pair is at most 2 * 3 * 127 = 762
// and a sub-block's 8 of them 6096 (no int16 saturation in
// simd::scaled_group_sums_narrow); madd with the scales (<= 15) at most
// 2 * 6096 * 15.
template <int N>
ERNIE_TARGET_AVX2 static void q2_avx2(const BlockQ2* wb, const ActRowA8* acts, int64_t nsb, float* out) {
  const __m256i low2 = _mm256_set1_epi8(0x03);
  __m256 acc[N];
  for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const BlockQ2& blk = wb[sb];
    simd::prefetch_ahead<sizeof(BlockQ2)>(&blk);
    __m256i codes[8];  // codes[g] = values 32g .. 32g + 31: bits 2k..2k+1 of qs[32h..], g = 4h + k
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * h));
      codes[4 * h] = _mm256_and_si256(qs, low2);
      codes[4 * h + 1] = _mm256_and_si256(_mm256_srli_epi16(qs, 2), low2);
      codes[4 * h + 2] = _mm256_and_si256(_mm256_srli_epi16(qs, 4), low2);
      codes[4 * h + 3] = _mm256_and_si256(_mm256_srli_epi16(qs, 6), low2);
    }
    const Q2Scales s = q2_scales(blk);
    for (int j = 0; j < N; ++j) {
      const int8_t* aq = acts[j].q + sb * kSuperBlockValues;
      __m256i dots[8];
      for (int g = 0; g < 8; ++g) {
        const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 32 * g));
        dots[g] = _mm256_maddubs_epi16(codes[g], av);
      }
      acc[j] = q2_accumulate(acc[j], simd::scaled_group_sums_narrow(dots, s.sc16), s, acts[j], sb);
    }
  }
  for (int j = 0; j < N; ++j) out[j] = simd::hsum(acc[j]);
}

void q2_dot_avx2(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* wb = reinterpret_cast<const BlockQ2*>(w);
  with_n_acts(n_acts, [&](auto k) { q2_avx2<decltype(k)::value>(wb, acts, n / kSuperBlockValues, out); });
}

// 64 values (groups 2p, 2p+1) per 512-bit step: qs[32(p/2)..] in both
// halves, shifted right by 2k per half (k = 2(p%2) and k + 1); vpdpbusd sums
// 4 products (at most 4 * 3 * 127) into int32. Then, unlike the AVX2
// variant, everything runs on one lane per 16-value sub-block (in
// simd::sum_subblocks_4x16's transposed order), so no 64 -> 8 lane reduction per
// group is needed: the scales, mins, activation scales and sums of the
// super-block are put in that order once and the lanes are added at the end.
// A sub-block's sum (at most 16 * 3 * 127) and its s16 fit in int16, so one
// vpmaddwd with the scale or min in the low half of each int32 multiplies.
//
// kGfni: a 2-bit field comes out in one GF2P8AFFINEQB instead of a shift
// and a mask.
template <int N, bool kGfni>
ERNIE_TARGET_AVX512 static void q2_avx512(const BlockQ2* wb, const ActRowA8* acts, int64_t nsb, float* out) {
  const __m512i low2 = _mm512_set1_epi8(0x03);
  const __m512i shifts[2] = {_mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2), _mm512_setr_epi64(4, 4, 4, 4, 6, 6, 6, 6)};
  using simd::gf2p8_bit_field;
  const __m512i fields[2] = {simd::halves_epi64(gf2p8_bit_field(0, 2, 0), gf2p8_bit_field(2, 2, 0)),
                             simd::halves_epi64(gf2p8_bit_field(4, 2, 0), gf2p8_bit_field(6, 2, 0))};
  const __m512i zero = _mm512_setzero_si512();
  const __m128i low4 = _mm_set1_epi8(0x0F);
  // Lane i holds sub-block 4 (i % 4) + i / 4, of activation group half that.
  const __m128i subblock_bytes = simd::subblock_lanes_bytes();
  const __m512i subblock_of_lane = _mm512_cvtepu8_epi32(subblock_bytes);
  const __m512i group_of_lane = _mm512_srli_epi32(subblock_of_lane, 1);
  __m512 acc[N];
  for (int j = 0; j < N; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const BlockQ2& blk = wb[sb];
    simd::prefetch_ahead<sizeof(BlockQ2)>(&blk);
    __m512i codes[4];
    for (int h = 0; h < 2; ++h) {
      const __m512i qs =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * h)));
      for (int f = 0; f < 2; ++f) {
        if constexpr (kGfni) {
          codes[2 * h + f] = simd::gf2p8_affine(qs, fields[f]);
        } else {
          codes[2 * h + f] = _mm512_and_si512(_mm512_srlv_epi64(qs, shifts[f]), low2);
        }
      }
    }
    const __m128i packed = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)),
                                            subblock_bytes);
    const __m512i sc = _mm512_cvtepu8_epi32(_mm_and_si128(packed, low4));
    const __m512i m = _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(packed, 4), low4));
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(blk.d));
    const __m512 dmin = _mm512_set1_ps(_cvtsh_ss(blk.dmin));
    for (int j = 0; j < N; ++j) {
      const ActRowA8& a = acts[j];
      const int8_t* aq = a.q + sb * kSuperBlockValues;
      __m512i dots[4];
      for (int p = 0; p < 4; ++p) dots[p] = _mm512_dpbusd_epi32(zero, codes[p], _mm512_loadu_si512(aq + 64 * p));
      const __m512 da = _mm512_permutexvar_ps(group_of_lane, _mm512_castps256_ps512(_mm256_loadu_ps(a.d + sb * 8)));
      const __m512i s16 = _mm512_permutexvar_epi32(
          subblock_of_lane,
          _mm512_cvtepi16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.s16 + sb * 16))));
      const __m512 scaled = _mm512_cvtepi32_ps(_mm512_madd_epi16(simd::sum_subblocks_4x16(dots), sc));
      const __m512 mins = _mm512_cvtepi32_ps(_mm512_madd_epi16(s16, m));
      acc[j] = _mm512_fmadd_ps(scaled, _mm512_mul_ps(d, da), acc[j]);
      acc[j] = _mm512_fnmadd_ps(mins, _mm512_mul_ps(dmin, da), acc[j]);
    }
  }
  for (int j = 0; j < N; ++j) out[j] = simd::hsum(acc[j]);
}

template <bool kGfni>
static void q2_dot_avx512_variant(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* wb = reinterpret_cast<const BlockQ2*>(w);
  with_n_acts(n_acts, [&](auto k) { q2_avx512<decltype(k)::value, kGfni>(wb, acts, n / kSuperBlockValues, out); });
}

void q2_dot_avx512(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  q2_dot_avx512_variant<false>(w, acts, n_acts, n, out);
}

void q2_dot_avx512_gfni(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  q2_dot_avx512_variant<true>(w, acts, n_acts, n, out);
}

#endif  // ERNIE_KERNELS_X86

}  // namespace ernie::cpu
