#include "backends/cpu/ops/attention.h"

#include <algorithm>
#include <cmath>

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

// How attention's work is cut into tasks. With enough tokens to keep the
// threads busy (prefill), a task per (token, kv head) query. With fewer
// (decode has one), the positions are split: by runs of chunks when every
// thread gets at least one, else by (query, chunk).
enum class Split { ByQuery, ByChunk, ByChunkRun };
Split choose_split(int64_t n_tokens, int64_t max_chunks, int n_threads) {
  if (n_tokens >= 2 * static_cast<int64_t>(n_threads)) return Split::ByQuery;
  return max_chunks >= n_threads ? Split::ByChunkRun : Split::ByChunk;
}

// Where the scratch puts things: per thread a chunk's scores, then per slot
// the partials of one query's chunks (slot = thread, or the query when split
// by position: fewer than 2 x n_threads tokens x n_kv_heads).
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
  const size_t elem = cache.f16 ? 2 : 4;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));

  // Query (t, kvh): token t's `group` heads that share kv head kvh, over
  // positions [0, pos0 + t].
  auto chunk_of = [&](int64_t query, int64_t c) {
    const int64_t t = query / s.n_kv_heads, kvh = query % s.n_kv_heads;
    cpu::AttnChunk a;
    a.q = q + t * q_dim + kvh * group * hd;
    a.k = static_cast<const uint8_t*>(cache.k) + kvh * hd * elem;
    a.v = static_cast<const uint8_t*>(cache.v) + kvh * hd * elem;
    a.f16 = cache.f16;
    a.stride = s.kv_stride;
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

  const int64_t n_queries = n_tokens * s.n_kv_heads;
  const Split split = choose_split(n_tokens, cpu::attn_chunks(max_len), pool.size());
  if (split == Split::ByQuery) {
    // A task per query: its chunks one after another, then their merge.
    pool.parallel_for(n_queries, [&](int64_t query, int thread) {
      float* sc = scratch + thread * lay.scores_floats;
      float* parts = slots + thread * lay.slot_floats;
      const int64_t n = chunks_of(query);
      for (int64_t c = 0; c < n; ++c) kernel(chunk_of(query, c), sc, cpu::attn_partial_at(parts + c * pf, group, hd));
      cpu::attn_merge(parts, n, group, hd, out_of(query));
    });
    return;
  }
  // The same arithmetic per (query, chunk) as above, spread over the threads
  // by position; a merge per query follows.
  auto run = [&](int64_t query, int64_t c, int thread, const cpu::AttnChunk& a) {
    float* parts = slots + query * lay.slot_floats;
    kernel(a, scratch + thread * lay.scores_floats, cpu::attn_partial_at(parts + c * pf, group, hd));
  };
  if (split == Split::ByChunk) {
    // Fewer chunks than threads: a task per (query, chunk).
    const int64_t max_chunks = cpu::attn_chunks(max_len);
    pool.parallel_for(n_queries * max_chunks, [&](int64_t task, int thread) {
      const int64_t query = task / max_chunks, c = task % max_chunks;
      if (c < chunks_of(query)) run(query, c, thread, chunk_of(query, c));
    });
  } else {
    // A task per (token, thread): a run of the token's chunks, every kv
    // head's query of a chunk in turn. A cached row holds all kv heads side
    // by side, so a chunk's rows are read whole (a task per kv head read a
    // quarter of every row, and decode's attention at depth 4096 took 18 %
    // longer), and while kv head h's share of chunk c computes, the kernel
    // requests the h-th share of chunk c + 1's K and V rows (another 10 %).
    const int64_t n_runs = pool.size();
    const int64_t row_bytes = s.kv_stride * static_cast<int64_t>(elem);
    pool.parallel_for(n_tokens * n_runs, [&](int64_t task, int thread) {
      const int64_t t = task / n_runs, run_index = task % n_runs;
      const int64_t n = chunks_of(t * s.n_kv_heads);
      const int64_t c0 = n * run_index / n_runs, c1 = n * (run_index + 1) / n_runs;
      for (int64_t c = c0; c < c1; ++c) {
        // The next chunk's rows (when this run has one), shared out by kv head.
        const cpu::AttnChunk next = chunk_of(t * s.n_kv_heads, c + 1);
        const int64_t next_bytes = c + 1 < c1 ? (next.p1 - next.p0) * row_bytes : 0;
        const int64_t share = (next_bytes / s.n_kv_heads + 63) / 64 * 64;
        for (int64_t h = 0; h < s.n_kv_heads; ++h) {
          const int64_t query = t * s.n_kv_heads + h;
          cpu::AttnChunk a = chunk_of(query, c);
          a.prefetched = c > c0;  // the run's previous chunk requested these rows
          if (next_bytes > 0) {
            a.prefetch[0] = reinterpret_cast<uintptr_t>(cache.k) + next.p0 * row_bytes + h * share;
            a.prefetch[1] = reinterpret_cast<uintptr_t>(cache.v) + next.p0 * row_bytes + h * share;
            a.prefetch_bytes = std::min(share, next_bytes - h * share);
          }
          run(query, c, thread, a);
        }
      }
    });
  }
  pool.parallel_for(n_queries, [&](int64_t query, int) {
    cpu::attn_merge(slots + query * lay.slot_floats, chunks_of(query), group, hd, out_of(query));
  });
}

}  // namespace ernie
