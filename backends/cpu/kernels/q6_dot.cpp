// q6 weights (super-blocks of 256: 16 sub-blocks of 16 with an int8 scale,
// 6-bit codes with offset 32) against int8 activations. The offset never
// touches the codes: per sub-block j
//   sc[j] * sum((q - 32) * a) = sc[j] * (sum(q * a) - 32 * s16[j])
// so the kernels multiply unsigned codes by signed activations. Sub-block
// pairs share one activation scale: per 32-value group g the integer
// sc[2g] * (...) + sc[2g+1] * (...) is exact, then scaled by d * d_a[g].
#include "format/dtype.h"
#include "backends/cpu/kernels/quant_dot_variants.h"
#include "backends/cpu/kernels/simd_x86.h"

namespace ernie::cpu {

using quant::ActRowA8;
using quant::BlockQ6;
using quant::kSuperBlockValues;

void q6_dot_scalar(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* blocks = reinterpret_cast<const BlockQ6*>(w);
  const int64_t nsb = n / kSuperBlockValues;
  for (int j = 0; j < n_acts; ++j) {
    const ActRowA8& a = acts[j];
    float sum = 0.0f;
    for (int64_t sb = 0; sb < nsb; ++sb) {
      const BlockQ6& blk = blocks[sb];
      const float d = f16_to_f32(blk.d);
      for (int g = 0; g < 8; ++g) {  // values 32g .. 32g + 31
        const uint8_t* ql = blk.ql + 32 * (g / 2);
        const int low_shift = 4 * (g % 2);
        const uint8_t* qh = blk.qh + 32 * (g / 4);
        const int high_shift = 2 * (g % 4);
        const int64_t v0 = sb * kSuperBlockValues + 32 * g;
        int32_t gsum = 0;
        for (int t = 0; t < 2; ++t) {  // sub-block 2g + t
          int32_t isum = 0;
          for (int i = 16 * t; i < 16 * t + 16; ++i) {
            const int q = ((ql[i] >> low_shift) & 15) | (((qh[i] >> high_shift) & 3) << 4);
            isum += q * a.q[v0 + i];
          }
          gsum += blk.scales[2 * g + t] * (isum - 32 * a.s16[v0 / 16 + t]);
        }
        sum += d * a.d[v0 / 32] * static_cast<float>(gsum);
      }
    }
    out[j] = sum;
  }
}

#ifdef ERNIE_KERNELS_X86

namespace {

// acc += d * d_a[g] * (isum[g] - 32 * (sc[2g] * s16[2g] + sc[2g+1] * s16[2g+1])).
// Bounds per group: |isum| <= 2 * 128 * 16 * 63 * 127 (32.8M), the offset
// term <= 32 * 2 * 128 * 2032 (16.6M): the int32 difference is exact.
ERNIE_TARGET_AVX2 inline __m256 q6_accumulate(__m256 acc, __m256i isum, __m256 d, __m256i sc16, const ActRowA8& a,
                                               int64_t sb) {
  const __m256i s16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.s16 + sb * 16));
  const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(s16, sc16), 5);
  const __m256 total = _mm256_cvtepi32_ps(_mm256_sub_epi32(isum, offset));
  return _mm256_fmadd_ps(total, _mm256_mul_ps(d, _mm256_loadu_ps(a.d + sb * 8)), acc);
}

}  // namespace

// Codes are 0..63 and |a| <= 127, so a maddubs pair is at most
// 2 * 63 * 127 = 16002 and two of them 32004 < 32767 (no int16 saturation
// in simd::scaled_group_sums' hadd); madd with the sub-block scales
// (|sc| <= 128) gives at most 2 * 32004 * 128 per int32.
template <int N>
ERNIE_TARGET_AVX2 static void q6_avx2(const BlockQ6* wb, const ActRowA8* acts, int64_t nsb, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i bits45 = _mm256_set1_epi8(0x30);
  __m256 acc[N];
  for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const BlockQ6& blk = wb[sb];
    simd::prefetch_ahead<sizeof(BlockQ6)>(&blk);
    __m256i codes[8];  // codes[g] = values 32g .. 32g + 31
    for (int p = 0; p < 4; ++p) {
      const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 32 * p));
      codes[2 * p] = _mm256_and_si256(ql, low4);
      codes[2 * p + 1] = _mm256_and_si256(_mm256_srli_epi16(ql, 4), low4);
    }
    for (int h = 0; h < 2; ++h) {  // bits 2k..2k+1 of qh -> bits 4..5 of group 4h + k
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h));
      __m256i* c = codes + 4 * h;
      c[0] = _mm256_or_si256(c[0], _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
      c[1] = _mm256_or_si256(c[1], _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
      c[2] = _mm256_or_si256(c[2], _mm256_and_si256(qh, bits45));
      c[3] = _mm256_or_si256(c[3], _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
    }
    __m256i sc16, scales[4];
    __m256 d;
    for (int j = 0; j < N; ++j) {
      const int8_t* aq = acts[j].q + sb * kSuperBlockValues;
      __m256i dots[8];
      for (int g = 0; g < 8; ++g) {
        const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 32 * g));
        dots[g] = _mm256_maddubs_epi16(codes[g], av);
      }
      if (j == 0) {  // after the first input's products, when the codes no longer fill the registers
        sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
        simd::pair_scales_4(sc16, scales);
        d = _mm256_set1_ps(_cvtsh_ss(blk.d));
      }
      acc[j] = q6_accumulate(acc[j], simd::scaled_group_sums(dots, scales), d, sc16, acts[j], sb);
    }
  }
  for (int j = 0; j < N; ++j) out[j] = simd::hsum(acc[j]);
}

void q6_dot_avx2(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* wb = reinterpret_cast<const BlockQ6*>(w);
  with_n_acts(n_acts, [&](auto k) { q6_avx2<decltype(k)::value>(wb, acts, n / kSuperBlockValues, out); });
}

// 64 values (groups 2p, 2p+1) per 512-bit step: ql[32p..] in both halves,
// the upper half shifted right by 4; qh[32(p/2)..] in both halves rotated
// so bits 2k..2k+1 land on bits 4..5 (rotate left by 4 - 2k, per half).
// vpdpbusd sums 4 products (at most 4 * 63 * 127) into int32; the lanes are
// added per 16-value sub-block (simd::sum_subblocks_4x16, at most
// 16 * 63 * 127), multiplied by the sub-block scales (|sc| <= 128) in one
// vpmulld and added per group: the AVX2 variant's integers, so
// q6_accumulate gives the same bits.
//
// kGfni: each of the two fields comes out in one GF2P8AFFINEQB instead of a
// shift (or rotate) and a mask.
template <int N, bool kGfni>
ERNIE_TARGET_AVX512 static void q6_avx512(const BlockQ6* wb, const ActRowA8* acts, int64_t nsb, float* out) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i bits45 = _mm512_set1_epi8(0x30);
  const __m512i low_shift = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
  const __m512i high_rotate[2] = {_mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2),  // k = 0, 1
                                  _mm512_setr_epi64(0, 0, 0, 0, 62, 62, 62, 62)};  // k = 2, 3
  using simd::gf2p8_bit_field;
  const __m512i low_field = simd::halves_epi64(gf2p8_bit_field(0, 4, 0), gf2p8_bit_field(4, 4, 0));
  const __m512i high_field[2] = {simd::halves_epi64(gf2p8_bit_field(0, 2, 4), gf2p8_bit_field(2, 2, 4)),
                                 simd::halves_epi64(gf2p8_bit_field(4, 2, 4), gf2p8_bit_field(6, 2, 4))};
  const __m512i zero = _mm512_setzero_si512();
  __m256 acc[N];
  for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const BlockQ6& blk = wb[sb];
    simd::prefetch_ahead<sizeof(BlockQ6)>(&blk);
    __m512i codes[4];
    for (int p = 0; p < 4; ++p) {
      const __m512i ql =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 32 * p)));
      const __m512i qh =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * (p / 2))));
      if constexpr (kGfni) {
        codes[p] = _mm512_or_si512(simd::gf2p8_affine(ql, low_field), simd::gf2p8_affine(qh, high_field[p % 2]));
      } else {
        codes[p] = _mm512_or_si512(_mm512_and_si512(_mm512_srlv_epi64(ql, low_shift), low4),
                                   _mm512_and_si512(_mm512_rolv_epi64(qh, high_rotate[p % 2]), bits45));
      }
    }
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));
    const __m512i sc_lanes = _mm512_cvtepi8_epi32(_mm_shuffle_epi8(sc8, simd::subblock_lanes_bytes()));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(blk.d));
    for (int j = 0; j < N; ++j) {
      const int8_t* aq = acts[j].q + sb * kSuperBlockValues;
      __m512i dots[4];
      for (int p = 0; p < 4; ++p) dots[p] = _mm512_dpbusd_epi32(zero, codes[p], _mm512_loadu_si512(aq + 64 * p));
      const __m512i scaled = _mm512_mullo_epi32(simd::sum_subblocks_4x16(dots), sc_lanes);
      acc[j] = q6_accumulate(acc[j], simd::groups_of_subblocks(scaled), d, sc16, acts[j], sb);
    }
  }
  for (int j = 0; j < N; ++j) out[j] = simd::hsum(acc[j]);
}

template <bool kGfni>
static void q6_dot_avx512_variant(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* wb = reinterpret_cast<const BlockQ6*>(w);
  with_n_acts(n_acts, [&](auto k) { q6_avx512<decltype(k)::value, kGfni>(wb, acts, n / kSuperBlockValues, out); });
}

void q6_dot_avx512(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  q6_dot_avx512_variant<false>(w, acts, n_acts, n, out);
}

void q6_dot_avx512_gfni(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  q6_dot_avx512_variant<true>(w, acts, n_acts, n, out);
}

#endif  // ERNIE_KERNELS_X86

}  // namespace ernie::cpu
