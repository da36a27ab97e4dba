// Attention over one chunk of cached positions for the query heads that
// share a kv head: the inner loop of ops/attention.cpp. A chunk yields a
// partial softmax (its own max, sum of exponentials and unnormalised
// weighted sum of values); attn_merge combines the chunks of a query in
// chunk order. Chunks have fixed boundaries (multiples of kAttnChunk), so a
// query's result is the same whether its chunks run on one thread or many,
// and whatever the batch it was evaluated in.
#pragma once

#include <cstdint>

#include "backends/cpu/kernels/quant_dot.h"

namespace ernie::cpu {

// Positions per chunk: scores of a chunk stay in L1, its K and V rows in L2.
constexpr int64_t kAttnChunk = 256;

inline int64_t attn_chunks(int64_t len) { return (len + kAttnChunk - 1) / kAttnChunk; }

// The group's queries against cached positions [p0, p1) (p1 - p0 <= kAttnChunk).
struct AttnChunk {
  const float* q = nullptr;  // [group][hd]
  const void* k = nullptr;   // row p of this kv head at element p * stride
  const void* v = nullptr;
  bool f16 = false;          // rows are f16 bit patterns (else f32)
  int64_t stride = 0, hd = 0, group = 0;
  int64_t p0 = 0, p1 = 0;
  float scale = 1.0f;        // applied to q . k
  // Optional: two byte ranges (the rows of the chunk computed next) that the
  // kernel requests into the cache a line at a time while it computes, so
  // their reads overlap this chunk's arithmetic. Never read, so any address.
  uintptr_t prefetch[2] = {0, 0};
  int64_t prefetch_bytes = 0;  // of each range
  // This chunk's own rows were such a range of the call before, so they are
  // in (or on their way to) the cache: the kernel skips its pull pass.
  bool prefetched = false;
};

// Per query head g: m[g] = max score, l[g] = sum of exp(score - m[g]),
// o[g][hd] = sum of exp(score - m[g]) * v.
struct AttnPartial {
  float* m = nullptr;
  float* l = nullptr;
  float* o = nullptr;
};

// Floats of an AttnPartial for `group` heads (m, l, o back to back).
inline int64_t attn_partial_floats(int64_t group, int64_t hd) { return group * (hd + 2); }
inline AttnPartial attn_partial_at(float* base, int64_t group, int64_t hd) {
  return {base, base + group, base + 2 * group};
}

// `scores` holds group * kAttnChunk floats.
using AttnChunkFn = void (*)(const AttnChunk& c, float* scores, const AttnPartial& out);

// The reference: plain loops, std::exp.
void attn_chunk_scalar(const AttnChunk& c, float* scores, const AttnPartial& out);
#if defined(__x86_64__) || defined(__i386__)
// AVX2 + FMA + F16C, hd % 16 == 0; AVX-512 (the Avx512Vnni level), hd % 32 == 0.
void attn_chunk_avx2(const AttnChunk& c, float* scores, const AttnPartial& out);
void attn_chunk_avx512(const AttnChunk& c, float* scores, const AttnPartial& out);
#endif

// The kernel for `isa` and head size `hd` (the scalar one where no SIMD
// variant applies).
AttnChunkFn attn_chunk_kernel(Isa isa, int64_t hd);

// out[g][hd] = softmax-weighted values of `n` chunks' partials (partial c at
// parts + c * attn_partial_floats), merged in chunk order.
void attn_merge(const float* parts, int64_t n, int64_t group, int64_t hd, float* out);

}  // namespace ernie::cpu
