#include "backends/cpu/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/cpu/kernels/attn_chunk.h"
#include "backends/cpu/kernels/simd_x86.h"
#include "format/dtype.h"
#include "util/thread_pool.h"

namespace ernie {
namespace {

bool have_f16c() {
  static const bool yes = cpu::detect_isa() >= cpu::Isa::Avx2;  // the Avx2 level includes F16C
  return yes;
}

ERNIE_TARGET_AVX2 void f16_to_f32_avx2(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

ERNIE_TARGET_AVX2 void f32_to_f16_avx2(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

}  // namespace

void f16_to_f32_row(const uint16_t* src, float* dst, int64_t n) {
  if (have_f16c()) return f16_to_f32_avx2(src, dst, n);
  for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n) {
  if (have_f16c()) return f32_to_f16_avx2(src, dst, n);
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

namespace {

// How many runs each query's chunks are cut into, a task per (query, run).
// With enough tokens to keep the threads busy (prefill), one: a task is a
// query. With fewer (decode has one token, n_kv_heads queries), enough runs
// that the tasks share evenly over the threads (4 queries on 2 threads: 1
// run each; on 3: 3 runs each), never more than there are chunks.
int64_t runs_per_query(int64_t n_tokens, int64_t n_queries, int64_t max_chunks, int n_threads) {
  const int64_t threads = n_threads;
  if (n_tokens >= 2 * threads) return 1;
  return std::max<int64_t>(1, std::min(max_chunks, threads / std::gcd(n_queries, threads)));
}

// Where the scratch puts things: per thread a chunk's scores, then per slot
// the partials of one query's chunks (slot = thread with one run per query,
// else the query: fewer than 2 x n_threads tokens x n_kv_heads).
struct ScratchLayout {
  int64_t scores_floats, slot_floats, n_slots;
  ScratchLayout(int n_threads, const AttentionShape& s, int64_t max_len) {
    const int64_t group = s.n_heads / s.n_kv_heads;
    scores_floats = group * cpu::kAttnChunk;
    slot_floats = cpu::attn_chunks(max_len) * cpu::attn_partial_floats(group, s.head_dim);
    n_slots = 2 * static_cast<int64_t>(n_threads) * s.n_kv_heads;  // enough for either mode
  }
  int64_t total(int n_threads) const { return n_threads * scores_floats + n_slots * slot_floats; }
};

}  // namespace

int64_t attention_scratch_floats(int n_threads, const AttentionShape& s, int64_t max_len) {
  return ScratchLayout(n_threads, s, max_len).total(n_threads);
}

void attention(const float* q, const KvLayer& cache, int64_t pos0, int64_t n_tokens, const AttentionShape& s,
               float* out, ThreadPool& pool, float* scratch) {
  const int64_t group = s.n_heads / s.n_kv_heads, hd = s.head_dim;
  const int64_t q_dim = s.n_heads * hd;
  const int64_t max_len = pos0 + n_tokens;
  const int64_t pf = cpu::attn_partial_floats(group, hd);
  const ScratchLayout lay(pool.size(), s, max_len);
  float* slots = scratch + pool.size() * lay.scores_floats;
  // Chosen outside the tasks: the first ISA query may throw.
  static const cpu::Isa isa = cpu::detect_isa();
  const cpu::AttnChunkFn kernel = cpu::attn_chunk_kernel(isa, hd);
  const int64_t elem = cache.f16 ? 2 : 4;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // A chunk of one kv head is one contiguous range when its positions are
  // adjacent: then the next chunk's range is requested while one computes.
  const bool contiguous = cache.pos_stride == hd;

  // Query (t, kvh): token t's `group` heads that share kv head kvh, over
  // positions [0, pos0 + t].
  auto chunk_of = [&](int64_t query, int64_t c) {
    const int64_t t = query / s.n_kv_heads, kvh = query % s.n_kv_heads;
    cpu::AttnChunk a;
    a.q = q + t * q_dim + kvh * group * hd;
    a.k = static_cast<const uint8_t*>(cache.k) + kvh * cache.head_stride * elem;
    a.v = static_cast<const uint8_t*>(cache.v) + kvh * cache.head_stride * elem;
    a.f16 = cache.f16;
    a.stride = cache.pos_stride;
    a.hd = hd;
    a.group = group;
    a.p0 = c * cpu::kAttnChunk;
    a.p1 = std::min(pos0 + t + 1, a.p0 + cpu::kAttnChunk);
    a.scale = scale;
    return a;
  };
  auto out_of = [&](int64_t query) {
    return out + (query / s.n_kv_heads) * q_dim + (query % s.n_kv_heads) * group * hd;
  };
  auto chunks_of = [&](int64_t query) { return cpu::attn_chunks(pos0 + query / s.n_kv_heads + 1); };
  // Chunks [c0, c1) of a query, partial c at parts + c * pf. While chunk c
  // computes, the kernel requests chunk c + 1's K and V (measured on the
  // 21B-A3B shape at depth 4096, 28 layers, with the weights streamed between
  // layers: 15 % less time than runs of chunks over heads side by side).
  auto run_chunks = [&](int64_t query, int64_t c0, int64_t c1, float* sc, float* parts) {
    for (int64_t c = c0; c < c1; ++c) {
      cpu::AttnChunk a = chunk_of(query, c);
      if (contiguous) {
        a.prefetched = c > c0;
        if (c + 1 < c1) {
          const cpu::AttnChunk next = chunk_of(query, c + 1);
          a.prefetch[0] = reinterpret_cast<uintptr_t>(next.k) + next.p0 * hd * elem;
          a.prefetch[1] = reinterpret_cast<uintptr_t>(next.v) + next.p0 * hd * elem;
          a.prefetch_bytes = (next.p1 - next.p0) * hd * elem;
        }
      }
      kernel(a, sc, cpu::attn_partial_at(parts + c * pf, group, hd));
    }
  };

  const int64_t n_queries = n_tokens * s.n_kv_heads;
  const int64_t runs = runs_per_query(n_tokens, n_queries, cpu::attn_chunks(max_len), pool.size());
  if (runs == 1) {
    // A task per query: its chunks one after another, then their merge.
    pool.parallel_for(n_queries, [&](int64_t query, int thread) {
      float* parts = slots + thread * lay.slot_floats;
      const int64_t n = chunks_of(query);
      run_chunks(query, 0, n, scratch + thread * lay.scores_floats, parts);
      cpu::attn_merge(parts, n, group, hd, out_of(query));
    });
    return;
  }
  // The same arithmetic per chunk, a task per (query, run); a merge per
  // query follows. A query whose chunks are fewer than the runs leaves some
  // runs empty.
  pool.parallel_for(n_queries * runs, [&](int64_t task, int thread) {
    const int64_t query = task / runs, r = task % runs, n = chunks_of(query);
    run_chunks(query, n * r / runs, n * (r + 1) / runs, scratch + thread * lay.scores_floats,
               slots + query * lay.slot_floats);
  });
  pool.parallel_for(n_queries, [&](int64_t query, int) {
    cpu::attn_merge(slots + query * lay.slot_floats, chunks_of(query), group, hd, out_of(query));
  });
}

}  // namespace ernie
