// x86 SIMD helpers shared by the quantized dot kernels. Functions carry
// their instruction set in a target attribute instead of the files being
// compiled with -mavx2/-mavx512*, so the library still loads and runs (on
// the scalar kernels) on a CPU without them; the dispatcher picks a variant
// only after detect_isa has seen the CPU has it.
#pragma once

#include <cstdint>
#include <cstring>

#include "backends/cpu/kernels/quant_dot_variants.h"

#ifdef ERNIE_KERNELS_X86

// GCC 12 reports its own _mm512_undefined_* self-initialisations as
// (maybe-)uninitialized when intrinsics inline into target-attribute functions
// (GCC bug 105593); the warning is about the header, not this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#define ERNIE_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define ERNIE_TARGET_AVX512 \
  __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

namespace ernie::cpu::simd {

// Sum of the 8 lanes, always in the same order.
ERNIE_TARGET_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Lanes 8-15 of v.
ERNIE_TARGET_AVX512 inline __m256 upper_half(__m512 v) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

ERNIE_TARGET_AVX512 inline float hsum(__m512 v) { return hsum(_mm256_add_ps(_mm512_castps512_ps256(v), upper_half(v))); }

// An empty asm that says it changes the accumulator v: GCC then keeps a
// loop-carried sum in one register. Without it, in the AVX2 tiles' inner
// loops, it computed every new sum into a temporary and copied it back (a
// vmovdqa per sum and step), and in q4's also stored one sum to the stack
// on every step: 35 instructions per q4 step instead of 28.
ERNIE_TARGET_AVX2 inline void keep_in_register(__m256i& v) { asm("" : "+x"(v)); }

// 4 bytes as one int32, to be broadcast (a broadcast load, or vpdpbusd's
// {1to16}).
inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// GF2P8AFFINEQB (GFNI) multiplies every byte by an 8x8 bit matrix, one per
// 64-bit lane: with a matrix that only selects bits it moves a code's bit
// field into place and clears the rest in one instruction, where the
// kernels otherwise shift and mask. The kernels' target attribute leaves out
// "gfni" so that one template builds both their avx512 and avx512gfni
// variants; GCC will not inline the intrinsic into such a function, hence
// the asm, which only the avx512gfni variants (if constexpr) contain.
ERNIE_TARGET_AVX512 inline __m512i gf2p8_affine(__m512i x, __m512i matrix) {
  __m512i out;
  asm("vgf2p8affineqb $0, %2, %1, %0" : "=v"(out) : "v"(x), "v"(matrix));
  return out;
}

// The matrix (one 64-bit lane) that moves bits [from, from + width) of each
// byte to bits [to, to + width) and clears the others: byte 7 - o of the
// matrix selects the input bits whose parity becomes output bit o.
constexpr uint64_t gf2p8_bit_field(int from, int width, int to) {
  uint64_t m = 0;
  for (int i = 0; i < width; ++i) m |= (uint64_t{1} << (from + i)) << (8 * (7 - (to + i)));
  return m;
}

// `lo` in the four 64-bit lanes of the low 256-bit half, `hi` in the high half.
ERNIE_TARGET_AVX512 inline __m512i halves_epi64(uint64_t lo, uint64_t hi) {
  return _mm512_inserti64x4(_mm512_set1_epi64(static_cast<int64_t>(lo)),
                            _mm256_set1_epi64x(static_cast<int64_t>(hi)), 1);
}

// The AVX2 row kernels' reduction of a super-block: v[g] is the maddubs
// output of 32-value group g (int16 lanes 0-7: its first 16 values, lanes
// 8-15: the other 16), and the result's int32 lane g is that group's sum.
// hadd in int16 first, two groups per vector, halves the widening madd and
// int32 hadd that follow: 23 uops for q4 and 25 + 4 pshufb for q6's
// scales, where 8 madd then 6 int32 hadd took 29 + 8 (docs/kernels.md).

// The first int16 hadd round, shared by the three: h[q] holds, per 128-bit
// half, group 2q's four pair sums and then group 2q + 1's.
ERNIE_TARGET_AVX2 inline void hadd_group_pairs(const __m256i v[8], __m256i h[4]) {
  for (int q = 0; q < 4; ++q) h[q] = _mm256_hadd_epi16(v[2 * q], v[2 * q + 1]);
}

// Lanes 0-3: lo's two 128-bit halves added; lanes 4-7: hi's.
ERNIE_TARGET_AVX2 inline __m256i add_halves(__m256i lo, __m256i hi) {
  return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31));
}

// Lane k = the sum of v[k]'s 16 lanes, for |lane| <= 3810 (4-bit codes
// times int8): two int16 hadd rounds (sums of 4 lanes <= 15240) before
// widening.
ERNIE_TARGET_AVX2 inline __m256i sum_i16_lanes_8x16(const __m256i v[8]) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i h[4];
  hadd_group_pairs(v, h);
  // Per 128-bit half: lanes 2k, 2k + 1 hold v[k]'s partial sums (k < 4, then k >= 4).
  return add_halves(_mm256_madd_epi16(_mm256_hadd_epi16(h[0], h[1]), ones),
                    _mm256_madd_epi16(_mm256_hadd_epi16(h[2], h[3]), ones));
}

// For a scale per 16 values (q6): from the 16 scales as int16 lanes,
// the madd operand of groups 2q and 2q + 1 after hadd_group_pairs:
// low half sc[4q] x4, sc[4q+2] x4; high half sc[4q+1] x4, sc[4q+3] x4.
ERNIE_TARGET_AVX2 inline void pair_scales_4(__m256i sc16, __m256i out[4]) {
  const __m256i first = _mm256_permute4x64_epi64(sc16, 0x44);   // sc[0..7] in both halves
  const __m256i second = _mm256_permute4x64_epi64(sc16, 0xEE);  // sc[8..15] in both halves
  for (int q = 0; q < 2; ++q) {
    const char a0 = static_cast<char>(8 * q), a1 = static_cast<char>(8 * q + 1);      // bytes of sc[4q]
    const char b0 = static_cast<char>(8 * q + 4), b1 = static_cast<char>(8 * q + 5);  // sc[4q+2]
    const char c0 = static_cast<char>(8 * q + 2), c1 = static_cast<char>(8 * q + 3);  // sc[4q+1]
    const char e0 = static_cast<char>(8 * q + 6), e1 = static_cast<char>(8 * q + 7);  // sc[4q+3]
    const __m256i pick = _mm256_setr_epi8(a0, a1, a0, a1, a0, a1, a0, a1, b0, b1, b0, b1, b0, b1, b0, b1,  //
                                          c0, c1, c0, c1, c0, c1, c0, c1, e0, e1, e0, e1, e0, e1, e0, e1);
    out[q] = _mm256_shuffle_epi8(first, pick);
    out[2 + q] = _mm256_shuffle_epi8(second, pick);
  }
}

// Lane g = sc[2g] * (sum of v[g]'s lanes 0-7) + sc[2g+1] * (lanes 8-15),
// for |lane| <= 16383 (two fit an int16 hadd) and `scales` from
// pair_scales_4.
ERNIE_TARGET_AVX2 inline __m256i scaled_group_sums(const __m256i v[8], const __m256i scales[4]) {
  __m256i m[4];  // per half: group 2q's two scaled partial sums, then group 2q + 1's
  hadd_group_pairs(v, m);
  for (int q = 0; q < 4; ++q) m[q] = _mm256_madd_epi16(m[q], scales[q]);
  // Per half: groups 0..3, then 4..7.
  return add_halves(_mm256_hadd_epi32(m[0], m[1]), _mm256_hadd_epi32(m[2], m[3]));
}

// Lane g = sc[2g] * (sum of v[g]'s lanes 0-7) + sc[2g+1] * (lanes 8-15),
// for |lane| <= 4095 (q2: 2 * 3 * 127): a sub-block's 8 lanes then fit
// int16, so three hadd rounds leave all 16 sub-block sums in one vector
// (half h, lane j: sub-block 2j + h); one permute and one pshufb put
// sub-blocks 2g and 2g + 1 side by side for one madd with the 16 scales in
// order (sc16). 24 uops where scaled_group_sums and its scales take 31.
ERNIE_TARGET_AVX2 inline __m256i scaled_group_sums_narrow(const __m256i v[8], __m256i sc16) {
  __m256i h[4];
  hadd_group_pairs(v, h);
  const __m256i sums = _mm256_hadd_epi16(_mm256_hadd_epi16(h[0], h[1]), _mm256_hadd_epi16(h[2], h[3]));
  // Half 0: sub-blocks 0, 2, 4, 6, 1, 3, 5, 7; half 1: 8, 10, 12, 14, 9, 11, 13, 15.
  const __m256i quads = _mm256_permute4x64_epi64(sums, 0xD8);
  const __m256i pick = _mm256_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,  //
                                        0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
  return _mm256_madd_epi16(_mm256_shuffle_epi8(quads, pick), sc16);
}

// Lane 2p + h of the result = the sum of lanes 8h..8h+7 of v[p] (p < 4,
// h < 2): a 64-value chunk holds two 32-value groups, one per 256-bit half.
ERNIE_TARGET_AVX512 inline __m256i sum_halves_4x16(const __m512i v[4]) {
  // Fold 128-bit quarters: y0 quarter q = group q's 4 partial lanes (groups 0..3), y1: groups 4..7.
  const __m512i y0 = _mm512_add_epi32(_mm512_shuffle_i64x2(v[0], v[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                      _mm512_shuffle_i64x2(v[0], v[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512i y1 = _mm512_add_epi32(_mm512_shuffle_i64x2(v[2], v[3], _MM_SHUFFLE(2, 0, 2, 0)),
                                      _mm512_shuffle_i64x2(v[2], v[3], _MM_SHUFFLE(3, 1, 3, 1)));
  // Within each quarter q: lane 0 = total of group q, lane 1 = total of group 4 + q.
  const __m512i z = _mm512_add_epi32(_mm512_unpacklo_epi32(y0, y1), _mm512_unpackhi_epi32(y0, y1));
  const __m512i t = _mm512_add_epi32(z, _mm512_shuffle_epi32(z, _MM_PERM_BADC));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, t));
}

// Sub-block order: q6 and q2 have a scale per 16 values. For vpdpbusd output
// of a super-block's four 64-value chunks v[0..3], lanes 4q..4q+3 of v[r]
// cover 16-value sub-block 4r + q. sum_subblocks_4x16 adds those four lanes
// with two levels of unpacks, which leaves the 16 sums transposed:
// sub-block 4r + q in lane 4q + r. Data per sub-block (scales, mins, s16)
// is put in the same order with subblock_lanes_bytes() as a pshufb or
// (widened) permute index.
ERNIE_TARGET_AVX2 inline __m128i subblock_lanes_bytes() {
  return _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
}

ERNIE_TARGET_AVX512 inline __m512i sum_subblocks_4x16(const __m512i v[4]) {
  const __m512i a = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
  const __m512i b = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
}

// From 16 per-sub-block values in that transposed order, lane g of the
// result = sub-block 2g's + sub-block 2g+1's (the 32-value groups, in
// order). Sub-block 2g sits in lane 8(g % 2) + g / 2, 2g + 1 four lanes on.
ERNIE_TARGET_AVX512 inline __m256i groups_of_subblocks(__m512i v) {
  const __m512i pairs = _mm512_add_epi32(v, _mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(3, 3, 3, 1)));
  const __m512i order = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, pairs));
}

// Weights are read once per token, and a kernel that also computes gets them
// from the hardware prefetcher alone at about two thirds of the rate of a
// plain read. Requesting the bytes kPrefetchAhead past the block being
// computed closes that gap (one thread, q4 on AVX-512 from huge-page memory:
// 9 GB/s before, 13-14 after, a plain read 14; docs/kernels.md). Rows of a
// matrix are contiguous, so near a row's end this fetches the next row, which
// the same task reads next. Prefetches never fault, past a mapping's end
// included; the address is formed as an integer for the same reason.
inline constexpr int64_t kPrefetchAhead = 2048;

// Every cache line of the kBytes at address `at` (an integer, see above).
template <int64_t kBytes>
inline void prefetch_lines(uintptr_t at) {
  for (int64_t off = 0; off < kBytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(at + off), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(at + kBytes - 1), _MM_HINT_T0);  // the last line when it straddles one more
}

template <int64_t kBytes>
inline void prefetch_ahead(const void* block) {
  prefetch_lines<kBytes>(reinterpret_cast<uintptr_t>(block) + kPrefetchAhead);
}

}  // namespace ernie::cpu::simd

#endif  // ERNIE_KERNELS_X86
