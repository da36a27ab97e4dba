// One chunk of attention for a group of query heads: the scalar reference
// and the AVX2 kernel, and the merge of chunks (attn_chunk.h).
#include "backends/cpu/kernels/attn_chunk.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "backends/cpu/kernels/simd_x86.h"
#include "format/dtype.h"

namespace ernie::cpu {

namespace {

float cached(const AttnChunk& c, const void* base, int64_t p, int64_t d) {
  const int64_t at = p * c.stride + d;
  return c.f16 ? f16_to_f32(static_cast<const uint16_t*>(base)[at]) : static_cast<const float*>(base)[at];
}

}  // namespace

void attn_chunk_scalar(const AttnChunk& c, float* scores, const AttnPartial& out) {
  const int64_t n = c.p1 - c.p0, hd = c.hd;
  for (int64_t g = 0; g < c.group; ++g) {
    float* s = scores + g * kAttnChunk;
    for (int64_t i = 0; i < n; ++i) {
      float dot = 0;
      for (int64_t d = 0; d < hd; ++d) dot += c.q[g * hd + d] * cached(c, c.k, c.p0 + i, d);
      s[i] = dot * c.scale;
    }
    float m = s[0];
    for (int64_t i = 1; i < n; ++i) m = std::max(m, s[i]);
    float l = 0;
    for (int64_t i = 0; i < n; ++i) {
      s[i] = std::exp(s[i] - m);
      l += s[i];
    }
    out.m[g] = m;
    out.l[g] = l;
    float* o = out.o + g * hd;
    for (int64_t d = 0; d < hd; ++d) o[d] = 0;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t d = 0; d < hd; ++d) o[d] += s[i] * cached(c, c.v, c.p0 + i, d);
    }
  }
}

void attn_merge(const float* parts, int64_t n, int64_t group, int64_t hd, float* out) {
  const int64_t pf = attn_partial_floats(group, hd);
  for (int64_t g = 0; g < group; ++g) {
    float m = parts[g];
    for (int64_t c = 1; c < n; ++c) m = std::max(m, parts[c * pf + g]);
    float l = 0;
    for (int64_t c = 0; c < n; ++c) l += std::exp(parts[c * pf + g] - m) * parts[c * pf + group + g];
    float* o = out + g * hd;
    for (int64_t d = 0; d < hd; ++d) o[d] = 0;
    for (int64_t c = 0; c < n; ++c) {
      const float f = std::exp(parts[c * pf + g] - m) / l;
      const float* oc = parts + c * pf + 2 * group + g * hd;
      for (int64_t d = 0; d < hd; ++d) o[d] += f * oc[d];
    }
  }
}

#ifdef ERNIE_KERNELS_X86

namespace {

#define ERNIE_AVX2 ERNIE_TARGET_AVX2
#define ERNIE_AVX512 ERNIE_TARGET_AVX512
using simd::hsum;

// Both SIMD kernels run the same plan:
// - scores of B heads a few positions at a time (4 on AVX-512, 2 on AVX2),
//   each K row converted once for the B heads, a transposing reduction per
//   head (converting K once per head had cost more than the products);
// - exponentials and their sum per head (softmax_parts_avx2);
// - values with the weighted sums of B heads over a slice of dims in
//   registers for the whole chunk (2 accumulators per head), B as large as
//   the registers allow so each V row is converted as few times as possible;
//   each step of that loop also requests a line of the chunk computed next
//   (AttnChunk::prefetch), so its reads overlap this chunk's arithmetic.

// Reads every cache line of the chunk's K and V rows once, with loads and
// nothing else, before any arithmetic: measured on a 4096-position cache
// out of RAM, this dense pass plus the compute from L2 took 12.5 ms per
// token (28 layers) against 19 ms when the compute loops met the misses
// themselves; software prefetches ahead of the loops did not help. Skipped
// for a chunk whose rows the call before prefetched (AttnChunk::prefetched):
// 4 % less time at depth 4096 on the Zen 5 VM. (The
// loads' results are ORed together and handed to an empty asm statement, so
// they cannot be dropped and nothing is written: threads run this at once.)
template <bool F16>
ERNIE_AVX2 void pull_chunk(const AttnChunk& c) {
  constexpr int64_t elem = F16 ? 2 : 4;
  __m256i acc = _mm256_setzero_si256();
  for (int64_t i = c.p0; i < c.p1; ++i) {
    const char* kr = static_cast<const char*>(c.k) + i * c.stride * elem;
    const char* vr = static_cast<const char*>(c.v) + i * c.stride * elem;
    for (int64_t b = 0; b < c.hd * elem; b += 64) {
      acc = _mm256_or_si256(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kr + b)));
      acc = _mm256_or_si256(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(vr + b)));
    }
  }
  asm volatile("" : : "x"(acc));
}

// Walks an AttnChunk's prefetch ranges a line per step (one step per inner
// iteration of the values loop, which has about as many iterations as the
// ranges have lines); finish() requests what the steps did not reach.
struct PrefetchCursor {
  uintptr_t a, b;
  int64_t left;
  explicit PrefetchCursor(const AttnChunk& c) : a(c.prefetch[0]), b(c.prefetch[1]), left(c.prefetch_bytes) {}
  void step() {
    if (left <= 0) return;
    _mm_prefetch(reinterpret_cast<const char*>(a), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b), _MM_HINT_T0);
    a += 64;
    b += 64;
    left -= 64;
  }
  void finish() {
    while (left > 0) step();
  }
};

// e^x for x <= 0 (scores minus their max): 2^(x log2 e) split into an
// integer power and a degree-6 polynomial on [-0.35, 0.35]; relative error
// ~2e-7, and e^-87 for anything below -87.
ERNIE_AVX2 inline __m256 exp_nonpositive(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  const __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f));
  const __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_mul_ps(_mm256_sub_ps(t, n), _mm256_set1_ps(0.693147180559945309f));
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// s[i] = exp(s[i] - max) over n scores; the max and the sum go to m and l.
ERNIE_AVX2 void softmax_parts_avx2(float* s, int64_t n, float* m_out, float* l_out) {
  int64_t i = 0;
  __m256 vm = _mm256_set1_ps(s[0]);
  for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(s + i));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(vm), _mm256_extractf128_ps(vm, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  float m = _mm_cvtss_f32(h);
  for (; i < n; ++i) m = std::max(m, s[i]);
  const __m256 mv = _mm256_set1_ps(m);
  __m256 vl = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(s + i), mv));
    _mm256_storeu_ps(s + i, e);
    vl = _mm256_add_ps(vl, e);
  }
  float l = hsum(vl);
  for (; i < n; ++i) {
    s[i] = std::exp(s[i] - m);
    l += s[i];
  }
  *m_out = m;
  *l_out = l;
}

// f(g0, std::integral_constant<int, b>) for a block size b in [1, kMaxB].
template <int kMaxB, int B = 1, typename F>
inline void call_with_block(int64_t b, int64_t g0, F& f) {
  if constexpr (B < kMaxB) {
    if (b != B) return call_with_block<kMaxB, B + 1>(b, g0, f);
  }
  f(g0, std::integral_constant<int, B>{});
}

// Runs f(g0, B) over the group's heads in blocks of at most kMaxB, blocks
// as even as possible (5 heads: one block; 8 heads with kMaxB 5: 4 + 4); B
// is a compile-time constant, so f instantiates its kernel per block size.
template <int kMaxB, typename F>
inline void for_head_blocks(int64_t group, F&& f) {
  const int64_t n_blocks = (group + kMaxB - 1) / kMaxB;
  const int64_t per = (group + n_blocks - 1) / n_blocks;
  for (int64_t g0 = 0; g0 < group; g0 += per) call_with_block<kMaxB>(std::min(per, group - g0), g0, f);
}

// ---- AVX2: 8 floats per register, 16 registers ----

template <bool F16>
ERNIE_AVX2 inline __m256 load8(const void* base, int64_t at) {
  if constexpr (F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + at)));
  } else {
    return _mm256_loadu_ps(static_cast<const float*>(base) + at);
  }
}

// Scores of B heads (g0 ..) over the chunk, 2 positions at a time: each K
// row is converted once for the B heads (2B accumulators + 2 rows + 1 query
// <= 13 registers).
template <bool F16, int B>
ERNIE_AVX2 void scores_avx2(const AttnChunk& c, int64_t g0, float* scores) {
  const int64_t n = c.p1 - c.p0, hd = c.hd;
  const float* q = c.q + g0 * hd;
  float* s = scores + g0 * kAttnChunk;
  const __m128 scale = _mm_set1_ps(c.scale);
  int64_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const int64_t at = (c.p0 + i) * c.stride;
    __m256 acc[B][2];
    for (auto& a : acc) a[0] = a[1] = _mm256_setzero_ps();
    for (int64_t d = 0; d < hd; d += 8) {
      const __m256 k0 = load8<F16>(c.k, at + d), k1 = load8<F16>(c.k, at + c.stride + d);
      for (int b = 0; b < B; ++b) {
        const __m256 qv = _mm256_loadu_ps(q + b * hd + d);
        acc[b][0] = _mm256_fmadd_ps(qv, k0, acc[b][0]);
        acc[b][1] = _mm256_fmadd_ps(qv, k1, acc[b][1]);
      }
    }
    for (int b = 0; b < B; ++b) {
      const __m256 h = _mm256_hadd_ps(acc[b][0], acc[b][1]);
      const __m128 x = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
      _mm_storel_pi(reinterpret_cast<__m64*>(s + b * kAttnChunk + i), _mm_mul_ps(_mm_hadd_ps(x, x), scale));
    }
  }
  for (; i < n; ++i) {
    const int64_t at = (c.p0 + i) * c.stride;
    for (int b = 0; b < B; ++b) {
      __m256 acc = _mm256_setzero_ps();
      for (int64_t d = 0; d < hd; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + b * hd + d), load8<F16>(c.k, at + d), acc);
      s[b * kAttnChunk + i] = hsum(acc) * c.scale;
    }
  }
}

// o[b][d..d+16) for B heads: 2B accumulators + 2 rows + 1 weight <= 13 registers.
template <bool F16, int B>
ERNIE_AVX2 void values_avx2(const AttnChunk& c, const float* w, float* o, PrefetchCursor& cursor) {
  const int64_t n = c.p1 - c.p0, hd = c.hd;
  PrefetchCursor next = cursor;  // in registers: through memory its update was the loop's critical path
  for (int64_t d = 0; d < hd; d += 16) {
    __m256 acc[B][2];
    for (auto& a : acc) a[0] = a[1] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; ++i) {
      next.step();
      const int64_t at = (c.p0 + i) * c.stride + d;
      const __m256 v0 = load8<F16>(c.v, at), v1 = load8<F16>(c.v, at + 8);
      for (int b = 0; b < B; ++b) {
        const __m256 wb = _mm256_broadcast_ss(w + b * kAttnChunk + i);
        acc[b][0] = _mm256_fmadd_ps(wb, v0, acc[b][0]);
        acc[b][1] = _mm256_fmadd_ps(wb, v1, acc[b][1]);
      }
    }
    for (int b = 0; b < B; ++b) {
      _mm256_storeu_ps(o + b * hd + d, acc[b][0]);
      _mm256_storeu_ps(o + b * hd + d + 8, acc[b][1]);
    }
  }
  cursor = next;
}

template <bool F16>
ERNIE_AVX2 void chunk_avx2(const AttnChunk& c, float* scores, const AttnPartial& out) {
  if (!c.prefetched) pull_chunk<F16>(c);
  for_head_blocks<5>(c.group, [&](int64_t g0, auto b) {
    scores_avx2<F16, decltype(b)::value>(c, g0, scores);
  });
  for (int64_t g = 0; g < c.group; ++g) softmax_parts_avx2(scores + g * kAttnChunk, c.p1 - c.p0, &out.m[g], &out.l[g]);
  PrefetchCursor next(c);
  for_head_blocks<5>(c.group, [&](int64_t g0, auto b) {
    const float* w = scores + g0 * kAttnChunk;
    float* o = out.o + g0 * c.hd;
    values_avx2<F16, decltype(b)::value>(c, w, o, next);
  });
  next.finish();
}

// ---- AVX-512: 16 floats per register, 32 registers ----

template <bool F16>
ERNIE_AVX512 inline __m512 load16(const void* base, int64_t at) {
  if constexpr (F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(base) + at)));
  } else {
    return _mm512_loadu_ps(static_cast<const float*>(base) + at);
  }
}

ERNIE_AVX512 inline __m256 fold(__m512 v) {
  return _mm256_add_ps(_mm512_castps512_ps256(v), simd::upper_half(v));
}

// Lane r of the result = the sum of the 16 lanes of v[r] (r < 4).
ERNIE_AVX512 inline __m128 sum_lanes_4x16_ps(const __m512 v[4]) {
  const __m256 a = _mm256_hadd_ps(fold(v[0]), fold(v[1])), b = _mm256_hadd_ps(fold(v[2]), fold(v[3]));
  const __m256 h = _mm256_hadd_ps(a, b);  // per 128-bit half: partial sums of v[0..3]
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// Scores of B heads (g0 ..) over the chunk, 4 positions at a time: each K
// row is converted once for the B heads (4B accumulators + 4 rows + 1 query
// <= 25 registers). Converting it once per head cost more than the rest.
template <bool F16, int B>
ERNIE_AVX512 void scores_avx512(const AttnChunk& c, int64_t g0, float* scores) {
  const int64_t n = c.p1 - c.p0, hd = c.hd;
  const float* q = c.q + g0 * hd;
  float* s = scores + g0 * kAttnChunk;
  const __m128 scale = _mm_set1_ps(c.scale);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int64_t at = (c.p0 + i) * c.stride;
    __m512 acc[B][4];
    for (auto& a : acc) a[0] = a[1] = a[2] = a[3] = _mm512_setzero_ps();
    for (int64_t d = 0; d < hd; d += 16) {
      __m512 k[4];
      for (int r = 0; r < 4; ++r) k[r] = load16<F16>(c.k, at + r * c.stride + d);
      for (int b = 0; b < B; ++b) {
        const __m512 qv = _mm512_loadu_ps(q + b * hd + d);
        for (int r = 0; r < 4; ++r) acc[b][r] = _mm512_fmadd_ps(qv, k[r], acc[b][r]);
      }
    }
    for (int b = 0; b < B; ++b) _mm_storeu_ps(s + b * kAttnChunk + i, _mm_mul_ps(sum_lanes_4x16_ps(acc[b]), scale));
  }
  for (; i < n; ++i) {
    const int64_t at = (c.p0 + i) * c.stride;
    for (int b = 0; b < B; ++b) {
      __m512 acc = _mm512_setzero_ps();
      for (int64_t d = 0; d < hd; d += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + b * hd + d), load16<F16>(c.k, at + d), acc);
      s[b * kAttnChunk + i] = hsum(acc) * c.scale;
    }
  }
}

// o[b][d..d+32) for B heads: 2B accumulators + 2 rows + 1 weight <= 19 registers.
template <bool F16, int B>
ERNIE_AVX512 void values_avx512(const AttnChunk& c, const float* w, float* o, PrefetchCursor& cursor) {
  const int64_t n = c.p1 - c.p0, hd = c.hd;
  PrefetchCursor next = cursor;
  for (int64_t d = 0; d < hd; d += 32) {
    __m512 acc[B][2];
    for (auto& a : acc) a[0] = a[1] = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; ++i) {
      next.step();
      const int64_t at = (c.p0 + i) * c.stride + d;
      const __m512 v0 = load16<F16>(c.v, at), v1 = load16<F16>(c.v, at + 16);
      for (int b = 0; b < B; ++b) {
        const __m512 wb = _mm512_set1_ps(w[b * kAttnChunk + i]);
        acc[b][0] = _mm512_fmadd_ps(wb, v0, acc[b][0]);
        acc[b][1] = _mm512_fmadd_ps(wb, v1, acc[b][1]);
      }
    }
    for (int b = 0; b < B; ++b) {
      _mm512_storeu_ps(o + b * hd + d, acc[b][0]);
      _mm512_storeu_ps(o + b * hd + d + 16, acc[b][1]);
    }
  }
  cursor = next;
}

template <bool F16>
ERNIE_AVX512 void chunk_avx512(const AttnChunk& c, float* scores, const AttnPartial& out) {
  if (!c.prefetched) pull_chunk<F16>(c);
  for_head_blocks<5>(c.group, [&](int64_t g0, auto b) {
    scores_avx512<F16, decltype(b)::value>(c, g0, scores);
  });
  for (int64_t g = 0; g < c.group; ++g) softmax_parts_avx2(scores + g * kAttnChunk, c.p1 - c.p0, &out.m[g], &out.l[g]);
  PrefetchCursor next(c);
  for_head_blocks<8>(c.group, [&](int64_t g0, auto b) {
    const float* w = scores + g0 * kAttnChunk;
    float* o = out.o + g0 * c.hd;
    values_avx512<F16, decltype(b)::value>(c, w, o, next);
  });
  next.finish();
}

}  // namespace

void attn_chunk_avx2(const AttnChunk& c, float* scores, const AttnPartial& out) {
  if (c.f16) {
    chunk_avx2<true>(c, scores, out);
  } else {
    chunk_avx2<false>(c, scores, out);
  }
}

void attn_chunk_avx512(const AttnChunk& c, float* scores, const AttnPartial& out) {
  if (c.f16) {
    chunk_avx512<true>(c, scores, out);
  } else {
    chunk_avx512<false>(c, scores, out);
  }
}

#endif  // ERNIE_KERNELS_X86

AttnChunkFn attn_chunk_kernel(Isa isa, int64_t hd) {
#ifdef ERNIE_KERNELS_X86
  // The Avx2 level includes F16C; every wider level includes Avx2.
  isa = std::min(isa, cpu_supported_isa());
  if (isa >= Isa::Avx512Vnni && hd % 32 == 0) return attn_chunk_avx512;
  if (isa >= Isa::Avx2 && hd % 16 == 0) return attn_chunk_avx2;
#else
  (void)isa;
  (void)hd;
#endif
  return attn_chunk_scalar;
}

}  // namespace ernie::cpu
