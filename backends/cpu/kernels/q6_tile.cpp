// q6 prefill tile kernel (quant_tile.h): 16 weight rows x many activation
// rows. Per 32-value group g (sub-blocks 2g and 2g + 1) each output follows
// q6_accumulate's arithmetic exactly: the exact integer
//   sc[2g] * (dot(2g) - 32 * s16[2g]) + sc[2g+1] * (dot(2g+1) - 32 * s16[2g+1])
// (the row kernel groups the same terms differently; integers do not care),
// then acc[g] = fma(that, d * d_a[g], acc[g]); vectors run over weight rows.
#include <cstddef>

#include "backends/cpu/kernels/tile_loop.h"

namespace ernie::cpu {

#ifdef ERNIE_KERNELS_X86

using quant::ActRowA8;
using quant::BlockQ6;
using quant::kSuperBlockValues;

namespace {

// scales rows: 0..15 the sub-block scales as int32, 16 d (float); lane r = row r.
ERNIE_TARGET_AVX512 void q6_tile_scales_avx512(const uint8_t* const blk[kTileRows], float (*scales)[kTileRows]) {
  alignas(32) uint16_t d[kTileRows];
  for (int r = 0; r < kTileRows; ++r) std::memcpy(&d[r], blk[r] + offsetof(BlockQ6, d), 2);
  __m512i t[8];  // t[k] lane r: scales 4k .. 4k + 3 of row r (k < 4; the rest is ql)
  simd::transpose_16x8_epi32(blk, offsetof(BlockQ6, scales), t);
  for (int j = 0; j < 16; ++j) {
    const __m512i sc = _mm512_srai_epi32(_mm512_slli_epi32(t[j / 4], 24 - 8 * (j % 4)), 24);
    _mm512_store_si512(scales[j], sc);
  }
  _mm512_store_ps(scales[16], _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d))));
}

// codes[g][k] lane r = the 4 codes (0..63) of values 32g + 4k .. +3 of row r.
// Transposing moves whole dwords, so the bytes of ql and qh still line up
// afterwards and the row kernels' shifts and masks apply unchanged.
ERNIE_TARGET_AVX512 void q6_tile_codes_avx512(const uint8_t* const blk[kTileRows], uint8_t (*codes)[8][4 * kTileRows]) {
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  for (int h = 0; h < 2; ++h) {  // qh[32h..]: bits 2k..2k+1 = high bits of group 4h + k
    __m512i qh[8];
    simd::transpose_16x8_epi32(blk, offsetof(BlockQ6, qh) + 32 * h, qh);
    for (int p = 2 * h; p < 2 * h + 2; ++p) {  // ql[32p..]: low nibbles = group 2p, high = 2p + 1
      __m512i ql[8];
      simd::transpose_16x8_epi32(blk, offsetof(BlockQ6, ql) + 32 * p, ql);
      for (int g = 2 * p; g < 2 * p + 2; ++g) {
        for (int k = 0; k < 8; ++k) {
          const __m512i low = _mm512_and_si512(g % 2 ? _mm512_srli_epi16(ql[k], 4) : ql[k], low4);
          __m512i high;
          switch (g % 4) {
            case 0: high = _mm512_slli_epi16(qh[k], 4); break;
            case 1: high = _mm512_slli_epi16(qh[k], 2); break;
            case 2: high = qh[k]; break;
            default: high = _mm512_srli_epi16(qh[k], 2); break;
          }
          _mm512_store_si512(codes[g][k], _mm512_or_si512(low, _mm512_and_si512(high, bits45)));
        }
      }
    }
  }
}

// N activation rows against the transposed super-block sb.
template <int N>
ERNIE_TARGET_AVX512 void q6_tile_acts_avx512(const TileScratch& t, const ActRowA8* acts, int64_t sb,
                                      float (*acc)[8][kTileRows]) {
  const __m512 d = _mm512_load_ps(t.scales[16]);
  alignas(32) int32_t offsets[N][16];
  for (int j = 0; j < N; ++j) simd::subblock_offsets_avx2(acts[j], sb, offsets[j]);
  for (int g = 0; g < 8; ++g) {
    const int64_t v0 = sb * kSuperBlockValues + 32 * g;
    __m512i first[N], second[N];  // sub-blocks 2g and 2g + 1
    for (int j = 0; j < N; ++j) first[j] = second[j] = _mm512_setzero_si512();
    for (int k = 0; k < 8; ++k) {
      const __m512i w = _mm512_load_si512(t.codes[g][k]);
      __m512i* sum = k < 4 ? first : second;
      for (int j = 0; j < N; ++j) {
        sum[j] = _mm512_dpbusd_epi32(sum[j], w, _mm512_set1_epi32(simd::load_i32(acts[j].q + v0 + 4 * k)));
      }
    }
    const __m512i sc0 = _mm512_load_si512(t.scales[2 * g]), sc1 = _mm512_load_si512(t.scales[2 * g + 1]);
    for (int j = 0; j < N; ++j) {
      const __m512i a0 = _mm512_sub_epi32(first[j], _mm512_set1_epi32(offsets[j][2 * g]));
      const __m512i a1 = _mm512_sub_epi32(second[j], _mm512_set1_epi32(offsets[j][2 * g + 1]));
      const __m512i total = _mm512_add_epi32(_mm512_mullo_epi32(sc0, a0), _mm512_mullo_epi32(sc1, a1));
      const __m512 a = _mm512_load_ps(acc[j][g]);
      const __m512 scale = _mm512_mul_ps(d, _mm512_set1_ps(acts[j].d[v0 / 32]));
      _mm512_store_ps(acc[j][g], _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), scale, a));
    }
  }
}

// AVX2: the same scratch contents, each 16-lane row handled as two halves of
// 8 rows; the AVX2 row kernel's arithmetic (q6_accumulate is shared).
ERNIE_TARGET_AVX2 void q6_tile_scales_avx2(const uint8_t* const blk[kTileRows], float (*scales)[kTileRows]) {
  alignas(16) uint16_t d[kTileRows];
  for (int r = 0; r < kTileRows; ++r) std::memcpy(&d[r], blk[r] + offsetof(BlockQ6, d), 2);
  for (int h = 0; h < kTileRows; h += 8) {
    __m256i t[8];
    simd::transpose_8x8_epi32(blk + h, offsetof(BlockQ6, scales), t);
    for (int j = 0; j < 16; ++j) {
      const __m256i sc = _mm256_srai_epi32(_mm256_slli_epi32(t[j / 4], 24 - 8 * (j % 4)), 24);
      _mm256_store_si256(reinterpret_cast<__m256i*>(scales[j] + h), sc);
    }
    _mm256_store_ps(scales[16] + h, _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(d + h))));
  }
}

ERNIE_TARGET_AVX2 void q6_tile_codes_avx2(const uint8_t* const blk[kTileRows], uint8_t (*codes)[8][4 * kTileRows]) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
  for (int half = 0; half < kTileRows; half += 8) {
    for (int h = 0; h < 2; ++h) {
      __m256i qh[8];
      simd::transpose_8x8_epi32(blk + half, offsetof(BlockQ6, qh) + 32 * h, qh);
      for (int p = 2 * h; p < 2 * h + 2; ++p) {
        __m256i ql[8];
        simd::transpose_8x8_epi32(blk + half, offsetof(BlockQ6, ql) + 32 * p, ql);
        for (int g = 2 * p; g < 2 * p + 2; ++g) {
          for (int k = 0; k < 8; ++k) {
            const __m256i low = _mm256_and_si256(g % 2 ? _mm256_srli_epi16(ql[k], 4) : ql[k], low4);
            __m256i high;
            switch (g % 4) {
              case 0: high = _mm256_slli_epi16(qh[k], 4); break;
              case 1: high = _mm256_slli_epi16(qh[k], 2); break;
              case 2: high = qh[k]; break;
              default: high = _mm256_srli_epi16(qh[k], 2); break;
            }
            _mm256_store_si256(reinterpret_cast<__m256i*>(codes[g][k] + 4 * half),
                               _mm256_or_si256(low, _mm256_and_si256(high, bits45)));
          }
        }
      }
    }
  }
}

// vpmaddubsw pairs are at most 2 * 63 * 127 = 16002: two steps add up in
// int16 (<= 32004) before vpmaddwd widens them.
template <int N>
ERNIE_TARGET_AVX2 void q6_tile_acts_avx2(const TileScratch& t, const ActRowA8* acts, int64_t sb,
                                         float (*acc)[8][kTileRows]) {
  const __m256i ones = _mm256_set1_epi16(1);
  alignas(32) int32_t offsets[N][16];
  for (int j = 0; j < N; ++j) simd::subblock_offsets_avx2(acts[j], sb, offsets[j]);
  for (int g = 0; g < 8; ++g) {
    const int64_t v0 = sb * kSuperBlockValues + 32 * g;
    for (int h = 0; h < kTileRows; h += 8) {
      // Per input: sc[2g] * (dot - 32 * s16) + the same for 2g + 1, each
      // sub-block folded in as soon as it is summed (fewer live registers).
      __m256i total[N];
      for (int j = 0; j < N; ++j) total[j] = _mm256_setzero_si256();
      for (int sub = 0; sub < 2; ++sub) {
        __m256i sums[N];
        for (int j = 0; j < N; ++j) sums[j] = _mm256_setzero_si256();
        #pragma GCC unroll 1  // GCC otherwise hoists all products of the group and spills them
        for (int k = 4 * sub; k < 4 * sub + 4; k += 2) {
          const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.codes[g][k] + 4 * h));
          const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.codes[g][k + 1] + 4 * h));
          for (int j = 0; j < N; ++j) {
            const __m256i a0 = _mm256_set1_epi32(simd::load_i32(acts[j].q + v0 + 4 * k));
            const __m256i a1 = _mm256_set1_epi32(simd::load_i32(acts[j].q + v0 + 4 * k + 4));
            const __m256i pair = _mm256_add_epi16(_mm256_maddubs_epi16(w0, a0), _mm256_maddubs_epi16(w1, a1));
            sums[j] = _mm256_add_epi32(sums[j], _mm256_madd_epi16(pair, ones));
            simd::keep_in_register(sums[j]);
          }
        }
        const __m256i sc = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.scales[2 * g + sub] + h));
        for (int j = 0; j < N; ++j) {
          const __m256i offset = _mm256_set1_epi32(offsets[j][2 * g + sub]);
          total[j] = _mm256_add_epi32(total[j], _mm256_mullo_epi32(sc, _mm256_sub_epi32(sums[j], offset)));
          simd::keep_in_register(total[j]);
        }
      }
      const __m256 d = _mm256_load_ps(t.scales[16] + h);
      for (int j = 0; j < N; ++j) {
        const __m256 a = _mm256_load_ps(acc[j][g] + h);
        const __m256 scale = _mm256_mul_ps(d, _mm256_set1_ps(acts[j].d[v0 / 32]));
        _mm256_store_ps(acc[j][g] + h, _mm256_fmadd_ps(_mm256_cvtepi32_ps(total[j]), scale, a));
      }
    }
  }
}

}  // namespace

void q6_tile_avx512(const uint8_t* const* rows, const ActRowA8* acts, int n_acts, int64_t n, float* out,
                    TileScratch* scratch) {
  run_tile_loop<Isa::Avx512Vnni, sizeof(BlockQ6)>(
      rows, acts, n_acts, n, out, scratch,
      [](const uint8_t* const* blk, TileScratch& t) {
        q6_tile_scales_avx512(blk, t.scales);
        q6_tile_codes_avx512(blk, t.codes);
      },
      [&](auto k, const ActRowA8* group, int64_t sb, float (*acc)[8][kTileRows]) {
        q6_tile_acts_avx512<decltype(k)::value>(*scratch, group, sb, acc);
      });
}

void q6_tile_avx2(const uint8_t* const* rows, const ActRowA8* acts, int n_acts, int64_t n, float* out,
                  TileScratch* scratch) {
  run_tile_loop<Isa::Avx2, sizeof(BlockQ6)>(
      rows, acts, n_acts, n, out, scratch,
      [](const uint8_t* const* blk, TileScratch& t) {
        q6_tile_scales_avx2(blk, t.scales);
        q6_tile_codes_avx2(blk, t.codes);
      },
      [&](auto k, const ActRowA8* group, int64_t sb, float (*acc)[8][kTileRows]) {
        q6_tile_acts_avx2<decltype(k)::value>(*scratch, group, sb, acc);
      });
}

#endif  // ERNIE_KERNELS_X86

}  // namespace ernie::cpu
