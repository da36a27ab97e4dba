// q4 prefill tile kernel (quant_tile.h): 16 weight rows x many activation
// rows. Per 32-value group s of a super-block, each output follows
// q4_accumulate's arithmetic exactly:
//   acc[s] = fma(isum, d * sc[s] * d_a, acc[s]) - (m[s] * dmin) * ds_a
// with vectors over the 16 weight rows instead of over the 8 groups.
#include <cstddef>

#include "backends/cpu/kernels/tile_loop.h"

namespace ernie::cpu {

#ifdef ERNIE_KERNELS_X86

using quant::ActRowA8;
using quant::BlockQ4;
using quant::kSuperBlockValues;

namespace {

// scales rows: 0..7 d * sc[s], 8..15 m[s] * dmin; lane r = row r.
// One transpose of the blocks' first 32 bytes puts d and dmin in t[0] and
// the 12 scale bytes in t[1..3], 16 rows per register.
ERNIE_TARGET_AVX512 void q4_tile_scales_avx512(const uint8_t* const blk[kTileRows], float (*scales)[kTileRows]) {
  static_assert(offsetof(BlockQ4, d) == 0 && offsetof(BlockQ4, dmin) == 2 && offsetof(BlockQ4, scales) == 4,
                "q4 block header: d, dmin, then the 12 scale bytes");
  __m512i t[8];
  simd::transpose_16x8_epi32(blk, 0, t);
  const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(t[0]));
  const __m512 dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(t[0], 16)));
  const __m512i k15 = _mm512_set1_epi32(15), k3 = _mm512_set1_epi32(3);
  for (int s = 0; s < 8; ++s) {
    // Byte s: low nibble = sc & 15, high = m & 15. Byte 8 + s/2, nibble s%2:
    // bits 0-1 = sc >> 4, bits 2-3 = m >> 4.
    const __m512i low = _mm512_srli_epi32(t[1 + s / 4], 8 * (s % 4));
    const __m512i high = _mm512_srli_epi32(t[3], 8 * (s / 2) + 4 * (s % 2));
    const __m512i sc = _mm512_or_si512(_mm512_and_si512(low, k15), _mm512_slli_epi32(_mm512_and_si512(high, k3), 4));
    const __m512i m = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(low, 4), k15),
                                      _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(high, 2), k3), 4));
    _mm512_store_ps(scales[s], _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
    _mm512_store_ps(scales[8 + s], _mm512_mul_ps(_mm512_cvtepi32_ps(m), dmin));
  }
}

// codes[s][k] lane r = the 4 codes of values 32s + 4k .. +3 of row r.
ERNIE_TARGET_AVX512 void q4_tile_codes_avx512(const uint8_t* const blk[kTileRows], uint8_t (*codes)[8][4 * kTileRows]) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  for (int p = 0; p < 4; ++p) {  // qs[32p..]: low nibbles = group 2p, high nibbles = group 2p + 1
    __m512i t[8];
    simd::transpose_16x8_epi32(blk, offsetof(BlockQ4, qs) + 32 * p, t);
    for (int k = 0; k < 8; ++k) {
      _mm512_store_si512(codes[2 * p][k], _mm512_and_si512(t[k], low4));
      _mm512_store_si512(codes[2 * p + 1][k], _mm512_and_si512(_mm512_srli_epi16(t[k], 4), low4));
    }
  }
}

// N activation rows against the transposed super-block sb.
template <int N>
ERNIE_TARGET_AVX512 void q4_tile_acts_avx512(const TileScratch& t, const ActRowA8* acts, int64_t sb,
                                      float (*acc)[8][kTileRows]) {
  for (int s = 0; s < 8; ++s) {
    const int64_t v0 = sb * kSuperBlockValues + 32 * s;
    __m512i isum[N];
    for (int j = 0; j < N; ++j) isum[j] = _mm512_setzero_si512();
    for (int k = 0; k < 8; ++k) {
      const __m512i w = _mm512_load_si512(t.codes[s][k]);
      for (int j = 0; j < N; ++j) {
        isum[j] = _mm512_dpbusd_epi32(isum[j], w, _mm512_set1_epi32(simd::load_i32(acts[j].q + v0 + 4 * k)));
      }
    }
    const __m512 dsc = _mm512_load_ps(t.scales[s]), mdmin = _mm512_load_ps(t.scales[8 + s]);
    for (int j = 0; j < N; ++j) {
      const __m512 da = _mm512_set1_ps(acts[j].d[v0 / 32]);
      __m512 a = _mm512_load_ps(acc[j][s]);
      a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[j]), _mm512_mul_ps(dsc, da), a);
      _mm512_store_ps(acc[j][s], _mm512_fnmadd_ps(mdmin, _mm512_set1_ps(acts[j].ds[v0 / 32]), a));
    }
  }
}

// AVX2: the same scratch contents, each 16-lane row handled as two halves of
// 8 rows; the AVX2 row kernel's arithmetic (q4_accumulate is shared).
ERNIE_TARGET_AVX2 void q4_tile_scales_avx2(const uint8_t* const blk[kTileRows], float (*scales)[kTileRows]) {
  const __m256i k15 = _mm256_set1_epi32(15), k3 = _mm256_set1_epi32(3);
  for (int h = 0; h < kTileRows; h += 8) {
    __m256i t[8];
    simd::transpose_8x8_epi32(blk + h, 0, t);
    const __m256 d = simd::low_f16_to_f32(t[0]);
    const __m256 dmin = simd::low_f16_to_f32(_mm256_srli_epi32(t[0], 16));
    for (int s = 0; s < 8; ++s) {
      const __m256i low = _mm256_srli_epi32(t[1 + s / 4], 8 * (s % 4));
      const __m256i high = _mm256_srli_epi32(t[3], 8 * (s / 2) + 4 * (s % 2));
      const __m256i sc =
          _mm256_or_si256(_mm256_and_si256(low, k15), _mm256_slli_epi32(_mm256_and_si256(high, k3), 4));
      const __m256i m = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(low, 4), k15),
                                        _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(high, 2), k3), 4));
      _mm256_store_ps(scales[s] + h, _mm256_mul_ps(d, _mm256_cvtepi32_ps(sc)));
      _mm256_store_ps(scales[8 + s] + h, _mm256_mul_ps(_mm256_cvtepi32_ps(m), dmin));
    }
  }
}

ERNIE_TARGET_AVX2 void q4_tile_codes_avx2(const uint8_t* const blk[kTileRows], uint8_t (*codes)[8][4 * kTileRows]) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  for (int h = 0; h < kTileRows; h += 8) {
    for (int p = 0; p < 4; ++p) {
      __m256i t[8];
      simd::transpose_8x8_epi32(blk + h, offsetof(BlockQ4, qs) + 32 * p, t);
      for (int k = 0; k < 8; ++k) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(codes[2 * p][k] + 4 * h), _mm256_and_si256(t[k], low4));
        _mm256_store_si256(reinterpret_cast<__m256i*>(codes[2 * p + 1][k] + 4 * h),
                           _mm256_and_si256(_mm256_srli_epi16(t[k], 4), low4));
      }
    }
  }
}

// vpmaddubsw pairs are at most 2 * 15 * 127 = 3810, so the 8 steps of a
// group add up in int16 (<= 30480) before one vpmaddwd widens them.
template <int N>
ERNIE_TARGET_AVX2 void q4_tile_acts_avx2(const TileScratch& t, const ActRowA8* acts, int64_t sb,
                                         float (*acc)[8][kTileRows]) {
  const __m256i ones = _mm256_set1_epi16(1);
  for (int s = 0; s < 8; ++s) {
    const int64_t v0 = sb * kSuperBlockValues + 32 * s;
    __m256i sum16[2][N];  // [half][input]: both halves share each broadcast
    for (int j = 0; j < N; ++j) sum16[0][j] = sum16[1][j] = _mm256_setzero_si256();
    #pragma GCC unroll 1  // GCC otherwise hoists all products of the group and spills them
    for (int k = 0; k < 8; ++k) {
      const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.codes[s][k]));
      const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.codes[s][k] + 32));
      for (int j = 0; j < N; ++j) {
        const __m256i a = _mm256_set1_epi32(simd::load_i32(acts[j].q + v0 + 4 * k));
        sum16[0][j] = _mm256_add_epi16(sum16[0][j], _mm256_maddubs_epi16(w0, a));
        sum16[1][j] = _mm256_add_epi16(sum16[1][j], _mm256_maddubs_epi16(w1, a));
        simd::keep_in_register(sum16[0][j]);
        simd::keep_in_register(sum16[1][j]);
      }
    }
    for (int j = 0; j < N; ++j) {
      const __m256 da = _mm256_broadcast_ss(acts[j].d + v0 / 32);
      const __m256 ds = _mm256_broadcast_ss(acts[j].ds + v0 / 32);
      for (int h = 0; h < 2; ++h) {
        const __m256 dsc = _mm256_load_ps(t.scales[s] + 8 * h), mdmin = _mm256_load_ps(t.scales[8 + s] + 8 * h);
        const __m256i isum = _mm256_madd_epi16(sum16[h][j], ones);
        __m256 a = _mm256_load_ps(acc[j][s] + 8 * h);
        a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dsc, da), a);
        _mm256_store_ps(acc[j][s] + 8 * h, _mm256_fnmadd_ps(mdmin, ds, a));
      }
    }
  }
}

}  // namespace

void q4_tile_avx512(const uint8_t* const* rows, const ActRowA8* acts, int n_acts, int64_t n, float* out,
                    TileScratch* scratch) {
  run_tile_loop<Isa::Avx512Vnni, sizeof(BlockQ4)>(
      rows, acts, n_acts, n, out, scratch,
      [](const uint8_t* const* blk, TileScratch& t) {
        q4_tile_scales_avx512(blk, t.scales);
        q4_tile_codes_avx512(blk, t.codes);
      },
      [&](auto k, const ActRowA8* group, int64_t sb, float (*acc)[8][kTileRows]) {
        q4_tile_acts_avx512<decltype(k)::value>(*scratch, group, sb, acc);
      });
}

void q4_tile_avx2(const uint8_t* const* rows, const ActRowA8* acts, int n_acts, int64_t n, float* out,
                  TileScratch* scratch) {
  run_tile_loop<Isa::Avx2, sizeof(BlockQ4)>(
      rows, acts, n_acts, n, out, scratch,
      [](const uint8_t* const* blk, TileScratch& t) {
        q4_tile_scales_avx2(blk, t.scales);
        q4_tile_codes_avx2(blk, t.codes);
      },
      [&](auto k, const ActRowA8* group, int64_t sb, float (*acc)[8][kTileRows]) {
        q4_tile_acts_avx2<decltype(k)::value>(*scratch, group, sb, acc);
      });
}

#endif  // ERNIE_KERNELS_X86

}  // namespace ernie::cpu
