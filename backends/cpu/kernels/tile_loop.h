// What every tile kernel (quant_tile.h) shares: the super-block loop, the
// dword transposes that put row r in lane r, the prefetch of 16 row streams,
// and the final fold of each output's 8 group sums. Both ISAs keep the same
// scratch layout: lane r of a 16-lane row is weight row r (AVX2 handles it
// as two 8-lane halves).
#pragma once

#include <cstring>
#include <type_traits>

#include "backends/cpu/kernels/quant_tile.h"
#include "backends/cpu/kernels/simd_x86.h"

#ifdef ERNIE_KERNELS_X86

namespace ernie::cpu {
namespace simd {

// out[k] lane r = dword k of the 32 bytes at rows[r] + offset (r < 8): the
// classic 8x8 network (unpack 32, unpack 64, then 128-bit lanes).
ERNIE_TARGET_AVX2 inline void transpose_8x8_epi32(const uint8_t* const rows[8], int64_t offset, __m256i out[8]) {
  __m256i z[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) z[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i] + offset));
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_epi32(z[i], z[i + 1]);
    t[i + 1] = _mm256_unpackhi_epi32(z[i], z[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);      // dword 0 of each 128-bit lane, rows i..i+3
    u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);  // dword 1
    u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
    u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    out[j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
    out[4 + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
  }
}

// The same for 16 rows: rows r and r + 8 share a register, so the network
// runs on both 256-bit halves at once; the last step picks 128-bit lanes.
ERNIE_TARGET_AVX512 inline void transpose_16x8_epi32(const uint8_t* const rows[16], int64_t offset, __m512i out[8]) {
  __m512i z[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i] + offset));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i + 8] + offset));
    z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  }
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm512_unpacklo_epi32(z[i], z[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(z[i], z[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);  // 128-bit lane 0 of each half
  const __m512i second = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  for (int j = 0; j < 4; ++j) {
    out[j] = _mm512_permutex2var_epi64(u[j], first, u[4 + j]);
    out[4 + j] = _mm512_permutex2var_epi64(u[j], second, u[4 + j]);
  }
}

// The f16 in the low 16 bits of each dword lane, as floats.
ERNIE_TARGET_AVX2 inline __m256 low_f16_to_f32(__m256i v) {
  const __m256i pick = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                        0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(v, pick), 0x08);
  return _mm256_cvtph_ps(_mm256_castsi256_si128(packed));
}

// offsets[b] = 32 * s16[b] for the 16 sub-blocks of super-block sb: q6
// codes are q + 32, so a sub-block's dot with them exceeds its dot with q
// by this much.
ERNIE_TARGET_AVX2 inline void subblock_offsets_avx2(const quant::ActRowA8& a, int64_t sb, int32_t offsets[16]) {
  const __m256i s16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.s16 + sb * 16));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(offsets),
                      _mm256_slli_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(s16)), 5));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(offsets + 8),
                      _mm256_slli_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(s16, 1)), 5));
}


// A tile reads 16 rows at once, 16 strided streams that the hardware
// prefetchers follow poorly: it requests each row's block `ahead` blocks on
// while it works on the current one. (Past a row's end that is the next
// row's start; prefetches never fault.)
template <int64_t kBlockBytes>
inline void prefetch_tile_blocks(const uint8_t* const blk[kTileRows], int64_t ahead) {
  for (int r = 0; r < kTileRows; ++r) {
    prefetch_lines<kBlockBytes>(reinterpret_cast<uintptr_t>(blk[r]) + static_cast<uintptr_t>(ahead * kBlockBytes));
  }
}

// out[a * 16 + r] = the sum over s of acc[a][s][r] in hsum's order:
// ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)). A tile keeps per lane
// (weight row) what a row kernel keeps in the lanes of one __m256, and must
// finish the same way to give the same bits.
ERNIE_TARGET_AVX2 inline void store_tile_sums_avx2(const float (*acc)[8][kTileRows], int n_acts, float* out) {
  for (int a = 0; a < n_acts; ++a) {
    for (int h = 0; h < kTileRows; h += 8) {
      __m256 v[8];
      for (int s = 0; s < 8; ++s) v[s] = _mm256_load_ps(acc[a][s] + h);
      const __m256 even = _mm256_add_ps(_mm256_add_ps(v[0], v[4]), _mm256_add_ps(v[2], v[6]));
      const __m256 odd = _mm256_add_ps(_mm256_add_ps(v[1], v[5]), _mm256_add_ps(v[3], v[7]));
      _mm256_storeu_ps(out + kTileRows * a + h, _mm256_add_ps(even, odd));
    }
  }
}

ERNIE_TARGET_AVX512 inline void store_tile_sums_avx512(const float (*acc)[8][kTileRows], int n_acts, float* out) {
  for (int a = 0; a < n_acts; ++a) {
    __m512 v[8];
    for (int s = 0; s < 8; ++s) v[s] = _mm512_load_ps(acc[a][s]);
    const __m512 even = _mm512_add_ps(_mm512_add_ps(v[0], v[4]), _mm512_add_ps(v[2], v[6]));
    const __m512 odd = _mm512_add_ps(_mm512_add_ps(v[1], v[5]), _mm512_add_ps(v[3], v[7]));
    _mm512_storeu_ps(out + kTileRows * a, _mm512_add_ps(even, odd));
  }
}

}  // namespace simd

// Blocks ahead that a tile requests while it works (2 and 4 measured alike
// on the 21B-A3B prompt, both far better than none).
inline constexpr int64_t kTilePrefetchBlocks = 4;

// prepare(blk, scratch): transposes the 16 blocks blk[r] (row r's current
// super-block) into scratch.codes and scratch.scales.
// multiply(std::integral_constant<int, N>, acts, sb, acc): adds N inputs'
// products with super-block sb to their accumulators acc[0..N).
template <Isa kIsa, int64_t kBlockBytes, typename Prepare, typename Multiply>
void run_tile_loop(const uint8_t* const* rows, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out,
                   TileScratch* scratch, Prepare prepare, Multiply multiply) {
  static_assert(kIsa == Isa::Avx2 || kIsa == Isa::Avx512Vnni, "tile kernels exist for AVX2 and AVX-512");
  check_quant_tile_args(n_acts, n, quant::kSuperBlockValues);
  TileScratch& t = *scratch;
  std::memset(t.acc, 0, sizeof(t.acc[0]) * n_acts);
  const uint8_t* blk[kTileRows];
  for (int64_t sb = 0; sb < n / quant::kSuperBlockValues; ++sb) {
    for (int r = 0; r < kTileRows; ++r) blk[r] = rows[r] + sb * kBlockBytes;
    simd::prefetch_tile_blocks<kBlockBytes>(blk, kTilePrefetchBlocks);
    prepare(blk, t);
    for (int i0 = 0; i0 < n_acts; i0 += 4) {
      with_n_acts(n_acts - i0, [&](auto k) { multiply(k, acts + i0, sb, t.acc + i0); });
    }
  }
  if constexpr (kIsa == Isa::Avx512Vnni) {
    simd::store_tile_sums_avx512(t.acc, n_acts, out);
  } else {
    simd::store_tile_sums_avx2(t.acc, n_acts, out);
  }
}

}  // namespace ernie::cpu

#endif  // ERNIE_KERNELS_X86
