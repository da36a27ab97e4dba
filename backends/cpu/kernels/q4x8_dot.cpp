// q4x8 (8 q4 rows interleaved, blocks.h) against int8 activations: out[8j + r]
// = row r of the group times activation row j. Each row follows q4's
// arithmetic per 32-value group g (q4_dot.cpp):
//   d_a[g] * d * sc[g] * sum(q * a) - dmin * m[g] * ds_a[g]
// but with the 8 rows in SIMD lanes: the codes arrive as 4 bytes per row per
// 32-byte load, so no lane reduction and no transpose is needed
// (docs/kernels.md).
#include <cstring>

#include "format/dtype.h"
#include "backends/cpu/kernels/quant_dot_variants.h"
#include "backends/cpu/kernels/simd_x86.h"

namespace ernie::cpu {

using quant::ActRowA8;
using quant::BlockQ4X8;
using quant::kQ4X8Rows;
using quant::kSuperBlockValues;

void q4x8_dot_scalar(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* blocks = reinterpret_cast<const BlockQ4X8*>(w);
  const int64_t nsb = n / kSuperBlockValues;
  for (int j = 0; j < n_acts; ++j) {
    const ActRowA8& a = acts[j];
    for (int r = 0; r < kQ4X8Rows; ++r) {
      float sum = 0.0f;
      for (int64_t sb = 0; sb < nsb; ++sb) {
        const BlockQ4X8& blk = blocks[sb];
        const float d = f16_to_f32(blk.d[r]);
        const float dmin = f16_to_f32(blk.dmin[r]);
        uint8_t scales[12];  // row r's q4 scale bytes
        for (int j = 0; j < 8; ++j) scales[j] = blk.scale_lo[j][r];
        for (int i = 0; i < 4; ++i) scales[8 + i] = blk.scale_hi[i][r];
        for (int g = 0; g < 8; ++g) {
          int sc = 0, m = 0;
          quant::q4_scale_min(scales, g, &sc, &m);
          const int shift = 4 * (g % 2);  // group g: nibble g % 2 of chunk p = g / 2
          const int64_t v0 = sb * kSuperBlockValues + 32 * g;
          int32_t isum = 0;
          for (int i = 0; i < 32; ++i) {
            const int code = (blk.qs[g / 2][i / 4][4 * r + i % 4] >> shift) & 15;
            isum += code * a.q[v0 + i];
          }
          sum += a.d[v0 / 32] * (d * static_cast<float>(sc * isum)) - dmin * static_cast<float>(m) * a.ds[v0 / 32];
        }
      }
      out[kQ4X8Rows * j + r] = sum;
    }
  }
}

#ifdef ERNIE_KERNELS_X86

namespace {

// The 8 groups' sc (sc[q]: groups 4q .. 4q+3, 8 rows each, as bytes) and m.
// scale_hi's nibble g % 2 is moved to the low nibble of each byte by
// shifting the 64-bit lanes that hold an odd group right by 4 (the bits that
// come in from the next byte are masked off).
ERNIE_TARGET_AVX2 inline void q4x8_scale_bytes(const BlockQ4X8& blk, __m256i sc[2], __m256i m[2]) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(0x03);
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.scale_hi));
  for (int q = 0; q < 2; ++q) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.scale_lo[4 * q]));
    // 64-bit lanes: hi's lane 2q, 2q, 2q+1, 2q+1 (groups 4q .. 4q+3), odd ones >> 4.
    const __m256i lanes = q ? _mm256_permute4x64_epi64(hi, 0xFA) : _mm256_permute4x64_epi64(hi, 0x50);  // immediates
    const __m256i h = _mm256_srlv_epi64(lanes, _mm256_setr_epi64x(0, 4, 0, 4));
    sc[q] = _mm256_or_si256(_mm256_and_si256(lo, low4), _mm256_slli_epi16(_mm256_and_si256(h, low2), 4));
    m[q] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo, 4), low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), low2), 4));
  }
}

// The 8 bytes of group g (one per row) from q4x8_scale_bytes' vectors, as floats.
ERNIE_TARGET_AVX2 inline __m256 q4x8_group_floats(const __m256i v[2], int g) {
  const __m256i q = v[g / 4];
  const __m128i half = (g % 4) < 2 ? _mm256_castsi256_si128(q) : _mm256_extracti128_si256(q, 1);
  const __m128i bytes = g % 2 ? _mm_unpackhi_epi64(half, half) : half;
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
}

// A quarter of the block kPrefetchAhead bytes ahead, once per code chunk:
// the whole block's 18 lines at once stalled the loop on full miss buffers.
inline void prefetch_quarter(const BlockQ4X8* blk, int p) {
  constexpr int64_t kQuarter = sizeof(BlockQ4X8) / 4;
  simd::prefetch_lines<kQuarter>(reinterpret_cast<uintptr_t>(blk) + 2 * simd::kPrefetchAhead + p * kQuarter);
}

// One super-block's scales, shared by the activation rows.
struct Q4x8Scales {
  __m256i sc[2], m[2];  // q4x8_scale_bytes
  __m256 d, dmin;
};

ERNIE_TARGET_AVX2 inline Q4x8Scales q4x8_scales(const BlockQ4X8& blk) {
  Q4x8Scales s;
  q4x8_scale_bytes(blk, s.sc, s.m);
  s.d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.d)));
  s.dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.dmin)));
  return s;
}

// acc[j] += group g's terms for the 8 rows (lanes), isum[j] its exact
// integer dots: the same float operations in the same order in every
// variant, so AVX2 and AVX-512 give the same bits.
template <int N>
ERNIE_TARGET_AVX2 inline void q4x8_accumulate(const Q4x8Scales& s, int g, const __m256i isum[N], const ActRowA8* acts,
                                              int64_t sb, __m256 acc[N]) {
  const __m256 dsc = _mm256_mul_ps(s.d, q4x8_group_floats(s.sc, g));
  const __m256 mdmin = _mm256_mul_ps(s.dmin, q4x8_group_floats(s.m, g));  // exact
  const int64_t at = sb * 8 + g;
  for (int j = 0; j < N; ++j) {
    acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[j]), _mm256_mul_ps(dsc, _mm256_broadcast_ss(acts[j].d + at)),
                             acc[j]);
    acc[j] = _mm256_fnmadd_ps(mdmin, _mm256_broadcast_ss(acts[j].ds + at), acc[j]);
  }
}

}  // namespace

// A step: one 32-byte load holds, per row, 4 codes of group 2p (low
// nibbles) and of group 2p + 1 (high), against 4 activation bytes each.
// Codes are 0..15 and |a| <= 127: a vpmaddubsw pair is at most 3810 and a
// group's 8 steps 30480, so its int16 sums never saturate before one
// vpmaddwd widens them.
template <int N>
ERNIE_TARGET_AVX2 static void q4x8_avx2(const BlockQ4X8* wb, const ActRowA8* acts, int64_t nsb, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[N];
  for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const BlockQ4X8& blk = wb[sb];
    const Q4x8Scales s = q4x8_scales(blk);
    for (int p = 0; p < 4; ++p) {
      prefetch_quarter(&blk, p);
      __m256i lo_sum[N], hi_sum[N];
      for (int j = 0; j < N; ++j) lo_sum[j] = hi_sum[j] = _mm256_setzero_si256();
      auto step = [&](int k) ERNIE_TARGET_AVX2 {
        const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs[p][k]));
        const __m256i lo = _mm256_and_si256(raw, low4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
        for (int j = 0; j < N; ++j) {
          const int8_t* aq = acts[j].q + sb * kSuperBlockValues + 64 * p + 4 * k;
          lo_sum[j] = _mm256_add_epi16(lo_sum[j], _mm256_maddubs_epi16(lo, _mm256_set1_epi32(simd::load_i32(aq))));
          hi_sum[j] = _mm256_add_epi16(hi_sum[j], _mm256_maddubs_epi16(hi, _mm256_set1_epi32(simd::load_i32(aq + 32))));
          simd::keep_in_register(lo_sum[j]);
          simd::keep_in_register(hi_sum[j]);
        }
      };
      if constexpr (N <= 2) {
        #pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) step(k);
      } else {
        #pragma GCC unroll 1  // as in the tiles: unrolled, GCC hoists the products and spills them
        for (int k = 0; k < 8; ++k) step(k);
      }
      __m256i isum[N];
      for (int j = 0; j < N; ++j) isum[j] = _mm256_madd_epi16(lo_sum[j], ones);
      q4x8_accumulate<N>(s, 2 * p, isum, acts, sb, acc);
      for (int j = 0; j < N; ++j) isum[j] = _mm256_madd_epi16(hi_sum[j], ones);
      q4x8_accumulate<N>(s, 2 * p + 1, isum, acts, sb, acc);
    }
  }
  for (int j = 0; j < N; ++j) _mm256_storeu_ps(out + kQ4X8Rows * j, acc[j]);
}

// AVX-512 VNNI: the same steps with vpdpbusd (4 products into int32, no
// saturation), 256 bits wide as the group is 8 rows of 4 bytes.
template <int N>
ERNIE_TARGET_AVX512 static void q4x8_avx512(const BlockQ4X8* wb, const ActRowA8* acts, int64_t nsb, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  __m256 acc[N];
  for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const BlockQ4X8& blk = wb[sb];
    const Q4x8Scales s = q4x8_scales(blk);
    for (int p = 0; p < 4; ++p) {
      prefetch_quarter(&blk, p);
      __m256i lo_sum[N], hi_sum[N];
      for (int j = 0; j < N; ++j) lo_sum[j] = hi_sum[j] = _mm256_setzero_si256();
      #pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs[p][k]));
        const __m256i lo = _mm256_and_si256(raw, low4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
        for (int j = 0; j < N; ++j) {
          const int8_t* aq = acts[j].q + sb * kSuperBlockValues + 64 * p + 4 * k;
          lo_sum[j] = _mm256_dpbusd_epi32(lo_sum[j], lo, _mm256_set1_epi32(simd::load_i32(aq)));
          hi_sum[j] = _mm256_dpbusd_epi32(hi_sum[j], hi, _mm256_set1_epi32(simd::load_i32(aq + 32)));
        }
      }
      q4x8_accumulate<N>(s, 2 * p, lo_sum, acts, sb, acc);
      q4x8_accumulate<N>(s, 2 * p + 1, hi_sum, acts, sb, acc);
    }
  }
  for (int j = 0; j < N; ++j) _mm256_storeu_ps(out + kQ4X8Rows * j, acc[j]);
}

void q4x8_dot_avx2(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* wb = reinterpret_cast<const BlockQ4X8*>(w);
  with_n_acts(n_acts, [&](auto k) { q4x8_avx2<decltype(k)::value>(wb, acts, n / kSuperBlockValues, out); });
}

// One input (decode) takes the AVX2 steps: with a single input each
// vpdpbusd waits for the previous one's sum (a 4-5 cycle chain per group),
// which made decode slower than vpmaddubsw + vpaddw. Same bits either way.
void q4x8_dot_avx512(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* wb = reinterpret_cast<const BlockQ4X8*>(w);
  if (n_acts == 1) {
    q4x8_avx2<1>(wb, acts, n / kSuperBlockValues, out);
    return;
  }
  with_n_acts(n_acts, [&](auto k) { q4x8_avx512<decltype(k)::value>(wb, acts, n / kSuperBlockValues, out); });
}

#endif  // ERNIE_KERNELS_X86

}  // namespace ernie::cpu
