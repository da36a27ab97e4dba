// q4 weights (super-blocks of 256: 8 sub-blocks of 32 with 6-bit scale and
// min) against int8 activations. Sub-blocks line up with the activations'
// 32-value scales, so per sub-block s:
//   d_a[s] * d * sc[s] * sum(q * a) - dmin * m[s] * ds_a[s]
// where ds_a[s] = d_a[s] * sum(a), computed once per activation row (ActRowA8).
#include <cstring>

#include "format/dtype.h"
#include "backends/cpu/kernels/quant_dot_variants.h"
#include "backends/cpu/kernels/simd_x86.h"

namespace ernie::cpu {

using quant::ActRowA8;
using quant::BlockQ4;
using quant::kSuperBlockValues;

void q4_dot_scalar(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* blocks = reinterpret_cast<const BlockQ4*>(w);
  const int64_t nsb = n / kSuperBlockValues;
  for (int j = 0; j < n_acts; ++j) {
    const ActRowA8& a = acts[j];
    float sum = 0.0f;
    for (int64_t sb = 0; sb < nsb; ++sb) {
      const BlockQ4& blk = blocks[sb];
      const float d = f16_to_f32(blk.d);
      const float dmin = f16_to_f32(blk.dmin);
      for (int s = 0; s < 8; ++s) {
        int sc = 0, m = 0;
        quant::q4_scale_min(blk.scales, s, &sc, &m);
        const uint8_t* qs = blk.qs + 32 * (s / 2);  // sub-block s: nibble s % 2 of these 32 bytes
        const int shift = 4 * (s % 2);
        const int64_t v0 = sb * kSuperBlockValues + 32 * s;
        int32_t isum = 0;
        for (int i = 0; i < 32; ++i) isum += ((qs[i] >> shift) & 15) * a.q[v0 + i];
        sum += a.d[v0 / 32] * (d * static_cast<float>(sc * isum)) - dmin * static_cast<float>(m) * a.ds[v0 / 32];
      }
    }
    out[j] = sum;
  }
}

#ifdef ERNIE_KERNELS_X86

namespace {

// The 8 scales (bytes 0-7) and 8 mins (bytes 8-15) of a super-block, decoded
// with byte shuffles: as 64-bit scalar arithmetic this took a third of the
// decode loop's instructions. Bytes 0-7 of `scales`: low nibble = sc & 15,
// high nibble = m & 15; nibble s of bytes 8-11: bits 0-1 = sc >> 4, bits
// 2-3 = m >> 4. The load's last 4 bytes are codes of the same block, unused.
// Every step works within 128-bit lanes, so x may hold one block's 16 bytes
// (low lane) or two consecutive blocks' (a low, b high).
ERNIE_TARGET_AVX2 inline __m256i q4_scale_min_lanes(__m256i x) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i lows = _mm256_unpacklo_epi64(_mm256_and_si256(x, low4), _mm256_and_si256(_mm256_srli_epi16(x, 4), low4));
  // Byte 8 + w to int16 lane w, twice; (b | b << 4) & 0x0F0F then puts its
  // low nibble in the lane's low byte and its high nibble in the high byte.
  const __m256i src = _mm256_shuffle_epi8(x, _mm256_setr_epi8(8, -1, 9, -1, 10, -1, 11, -1, 8, -1, 9, -1, 10, -1, 11, -1,  //
                                                              8, -1, 9, -1, 10, -1, 11, -1, 8, -1, 9, -1, 10, -1, 11, -1));
  const __m256i nib = _mm256_and_si256(_mm256_or_si256(src, _mm256_slli_epi16(src, 4)), low4);
  const __m256i pick = _mm256_setr_epi8(3, 3, 3, 3, 3, 3, 3, 3, 12, 12, 12, 12, 12, 12, 12, 12,  //
                                        3, 3, 3, 3, 3, 3, 3, 3, 12, 12, 12, 12, 12, 12, 12, 12);
  // Both land on bits 4-5.
  const __m256i highs = _mm256_sllv_epi64(_mm256_and_si256(nib, pick), _mm256_set_epi64x(2, 4, 2, 4));
  return _mm256_or_si256(lows, highs);
}

ERNIE_TARGET_AVX2 inline __m128i q4_scale_min_bytes(const uint8_t* scales) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(scales));
  return _mm256_castsi256_si128(q4_scale_min_lanes(_mm256_castsi128_si256(x)));
}

ERNIE_TARGET_AVX2 inline __m256i q4_scale_min_bytes2(const uint8_t* a, const uint8_t* b) {
  const __m256i x = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
  return q4_scale_min_lanes(x);
}

// Per-super-block weights, shared by every activation row.
struct Q4Scales {
  __m256 dsc;    // d * sc[s]
  __m256 mdmin;  // m[s] * dmin (exact: 6 bits times an f16's 11)
};

ERNIE_TARGET_AVX2 inline Q4Scales q4_scales(const BlockQ4& blk) {
  const __m128i sm = q4_scale_min_bytes(blk.scales);
  uint32_t d_dmin;  // the two f16 converted at once: lane 0 = d, lane 1 = dmin
  std::memcpy(&d_dmin, &blk.d, 4);
  const __m256 dd = _mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d_dmin))));
  Q4Scales s;
  s.dsc = _mm256_mul_ps(_mm256_permutevar8x32_ps(dd, _mm256_setzero_si256()),
                        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sm)));
  s.mdmin = _mm256_mul_ps(_mm256_permutevar8x32_ps(dd, _mm256_set1_epi32(1)),
                          _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_unpackhi_epi64(sm, sm))));
  return s;
}

// acc += d_a * dsc * isum - mdmin * ds_a, lane s = sub-block s.
ERNIE_TARGET_AVX2 inline __m256 q4_accumulate(__m256 acc, __m256i isum, const Q4Scales& s, const ActRowA8& a,
                                               int64_t sb) {
  const __m256 da = _mm256_loadu_ps(a.d + sb * 8);
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(s.dsc, da), acc);
  return _mm256_fnmadd_ps(s.mdmin, _mm256_loadu_ps(a.ds + sb * 8), acc);
}

}  // namespace

// Codes are 0..15 and |a| <= 127, so a maddubs pair is at most
// 2 * 15 * 127 = 3810: no int16 saturation (simd::sum_i16_lanes_8x16 adds them).
template <int N>
ERNIE_TARGET_AVX2 static void q4_avx2(const BlockQ4* wb, const ActRowA8* acts, int64_t nsb, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  __m256 acc[N];
  for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const BlockQ4& blk = wb[sb];
    simd::prefetch_ahead<sizeof(BlockQ4)>(&blk);
    __m256i codes[8];  // codes[s] = the 32 values of sub-block s
    for (int p = 0; p < 4; ++p) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * p));
      codes[2 * p] = _mm256_and_si256(raw, low4);
      codes[2 * p + 1] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
    }
    const Q4Scales s = q4_scales(blk);
    for (int j = 0; j < N; ++j) {
      const int8_t* aq = acts[j].q + sb * kSuperBlockValues;
      __m256i dots[8];
      for (int k = 0; k < 8; ++k) {
        const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 32 * k));
        dots[k] = _mm256_maddubs_epi16(codes[k], av);
      }
      acc[j] = q4_accumulate(acc[j], simd::sum_i16_lanes_8x16(dots), s, acts[j], sb);
    }
  }
  for (int j = 0; j < N; ++j) out[j] = simd::hsum(acc[j]);
}

void q4_dot_avx2(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* wb = reinterpret_cast<const BlockQ4*>(w);
  with_n_acts(n_acts, [&](auto k) { q4_avx2<decltype(k)::value>(wb, acts, n / kSuperBlockValues, out); });
}

// 64 values per 512-bit step: the 32 bytes qs[32p..] go to both halves, the
// upper half shifted right by 4, so the vector holds sub-blocks 2p and 2p+1
// in order. vpdpbusd sums 4 products (u8 x s8) into int32 without saturation.
//
// Super-blocks go in pairs: the scales, the 64 -> 8 lane reductions and the
// float products of two blocks share 512-bit registers (16 lanes: block a's
// 8 groups, then block b's), which saves about a fifth of the loop's
// instructions. The accumulator still takes block a's terms, then block
// b's, in q4_accumulate's order, so the bits are the single-block loop's.
//
// kGfni: the nibbles come out of the broadcast bytes in one GF2P8AFFINEQB
// (low nibble in the low half, high nibble in the high half) instead of a
// shift and a mask.
template <int N, bool kGfni>
ERNIE_TARGET_AVX512 static void q4_avx512(const BlockQ4* wb, const ActRowA8* acts, int64_t nsb, float* out) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i half_shift = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
  const __m512i nibbles = simd::halves_epi64(simd::gf2p8_bit_field(0, 4, 0), simd::gf2p8_bit_field(4, 4, 0));
  auto unpack = [&](__m512i raw) ERNIE_TARGET_AVX512 {
    if constexpr (kGfni) {
      return simd::gf2p8_affine(raw, nibbles);
    } else {
      return _mm512_and_si512(_mm512_srlv_epi64(raw, half_shift), low4);
    }
  };
  const __m512i zero = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi16(1);
  // Lanes of the folded sums: block a's groups 0, 2, 4, 6, then 1, 3, 5, 7;
  // then block b's in the same order. In group order:
  const __m512i group_order = _mm512_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
  const __m512i d_lanes = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2);
  const __m512i dmin_lanes = _mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3);
  __m256 acc[N];
  for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
  int64_t sb = 0;
  for (; sb + 2 <= nsb; sb += 2) {
    const BlockQ4& ba = wb[sb];
    const BlockQ4& bb = wb[sb + 1];
    simd::prefetch_ahead<2 * sizeof(BlockQ4)>(&ba);
    __m512i codes[8];  // [4 * block + p]
    for (int p = 0; p < 8; ++p) {
      const BlockQ4& blk = p < 4 ? ba : bb;
      const __m512i raw =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * (p % 4))));
      codes[p] = unpack(raw);
    }
    const __m256i sm = q4_scale_min_bytes2(ba.scales, bb.scales);  // [sc_a m_a | sc_b m_b]
    uint32_t dd_a, dd_b;
    std::memcpy(&dd_a, &ba.d, 4);
    std::memcpy(&dd_b, &bb.d, 4);
    const __m512 dd = _mm512_castps128_ps512(
        _mm_cvtph_ps(_mm_insert_epi32(_mm_cvtsi32_si128(static_cast<int>(dd_a)), static_cast<int>(dd_b), 1)));
    const __m512 sc = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(_mm256_permute4x64_epi64(sm, 0x08))));
    const __m512 dsc = _mm512_mul_ps(_mm512_permutexvar_ps(d_lanes, dd), sc);
    const __m512 mdmin = _mm512_mul_ps(
        _mm512_permutexvar_ps(dmin_lanes, dd),
        _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(_mm256_permute4x64_epi64(sm, 0x0D)))));
    for (int j = 0; j < N; ++j) {
      const int8_t* aq = acts[j].q + sb * kSuperBlockValues;
      // Chunk p (64 values: 128-bit quarter q holds 4 lanes of group 2p +
      // q / 2) reduced per quarter with pack + madd: each step adds lane
      // pairs of two vectors at once (at most 7620, 15240, then 30480 per
      // int16 before widening, so packs never saturates).
      __m512i pairs[4];  // per quarter: chunk 2k's two pair sums, then chunk 2k + 1's
      for (int k = 0; k < 4; ++k) {
        const __m512i v0 = _mm512_dpbusd_epi32(zero, codes[2 * k], _mm512_loadu_si512(aq + 128 * k));
        const __m512i v1 = _mm512_dpbusd_epi32(zero, codes[2 * k + 1], _mm512_loadu_si512(aq + 128 * k + 64));
        pairs[k] = _mm512_madd_epi16(_mm512_packs_epi32(v0, v1), ones);
      }
      // Per quarter: the sums of chunks 4m .. 4m + 3 (block a: m = 0, b: m = 1).
      const __m512i quads_a = _mm512_madd_epi16(_mm512_packs_epi32(pairs[0], pairs[1]), ones);
      const __m512i quads_b = _mm512_madd_epi16(_mm512_packs_epi32(pairs[2], pairs[3]), ones);
      // Quarters 2i and 2i + 1 hold the two halves of a group.
      const __m512i t = _mm512_add_epi32(_mm512_shuffle_i64x2(quads_a, quads_b, _MM_SHUFFLE(2, 0, 2, 0)),
                                         _mm512_shuffle_i64x2(quads_a, quads_b, _MM_SHUFFLE(3, 1, 3, 1)));
      const __m512 isum = _mm512_cvtepi32_ps(_mm512_permutexvar_epi32(group_order, t));
      const __m512 f = _mm512_mul_ps(dsc, _mm512_loadu_ps(acts[j].d + sb * 8));
      const __m512 ds = _mm512_loadu_ps(acts[j].ds + sb * 8);
      acc[j] = _mm256_fmadd_ps(_mm512_castps512_ps256(isum), _mm512_castps512_ps256(f), acc[j]);
      acc[j] = _mm256_fnmadd_ps(_mm512_castps512_ps256(mdmin), _mm512_castps512_ps256(ds), acc[j]);
      acc[j] = _mm256_fmadd_ps(simd::upper_half(isum), simd::upper_half(f), acc[j]);
      acc[j] = _mm256_fnmadd_ps(simd::upper_half(mdmin), simd::upper_half(ds), acc[j]);
    }
  }
  for (; sb < nsb; ++sb) {
    const BlockQ4& blk = wb[sb];
    simd::prefetch_ahead<sizeof(BlockQ4)>(&blk);
    __m512i codes[4];
    for (int p = 0; p < 4; ++p) {
      const __m512i raw =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * p)));
      codes[p] = unpack(raw);
    }
    const Q4Scales s = q4_scales(blk);
    for (int j = 0; j < N; ++j) {
      const int8_t* aq = acts[j].q + sb * kSuperBlockValues;
      __m512i dots[4];
      for (int p = 0; p < 4; ++p) dots[p] = _mm512_dpbusd_epi32(zero, codes[p], _mm512_loadu_si512(aq + 64 * p));
      acc[j] = q4_accumulate(acc[j], simd::sum_halves_4x16(dots), s, acts[j], sb);
    }
  }
  for (int j = 0; j < N; ++j) out[j] = simd::hsum(acc[j]);
}

template <bool kGfni>
static void q4_dot_avx512_variant(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  check_quant_dot_args(n_acts, n, kSuperBlockValues);
  const auto* wb = reinterpret_cast<const BlockQ4*>(w);
  with_n_acts(n_acts, [&](auto k) { q4_avx512<decltype(k)::value, kGfni>(wb, acts, n / kSuperBlockValues, out); });
}

void q4_dot_avx512(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  q4_dot_avx512_variant<false>(w, acts, n_acts, n, out);
}

void q4_dot_avx512_gfni(const uint8_t* w, const ActRowA8* acts, int n_acts, int64_t n, float* out) {
  q4_dot_avx512_variant<true>(w, acts, n_acts, n, out);
}

#endif  // ERNIE_KERNELS_X86

}  // namespace ernie::cpu
