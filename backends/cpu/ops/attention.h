// Causal grouped-query attention of a batch of new tokens over the KV cache,
// which holds keys and values as f32 or f16 (half the bytes to read per
// decoded token).
#pragma once

#include <cstdint>

namespace ernie {

class ThreadPool;

struct AttentionShape {
  int64_t n_heads, n_kv_heads, head_dim;
  int64_t kv_stride;  // values between consecutive positions in the cache
};

// One layer's cache: [pos][kv_stride] values of f32, or f16 bit patterns.
struct KvLayer {
  const void* k = nullptr;
  const void* v = nullptr;
  bool f16 = false;
};

// For each new token t (position pos0 + t) and query head h:
//   out[t][h] = softmax(q[t][h] . K[0..pos]^T / sqrt(hd)) V[0..pos]
// using kv head h / (n_heads / n_kv_heads). The query heads that share a kv
// head are computed together, so a cached row is read once for all of them,
// over chunks of positions (kernels/attn_chunk.h) whose partial softmaxes
// are merged in order. With many tokens (prefill) each task takes one token
// and kv head; with few (decode) the chunks themselves are spread over the
// threads, so long contexts use every core: each thread a run of chunks
// with whole cached rows (all kv heads), the next chunk's rows requested
// while one computes. Every way gives the same bits.
// `scratch` holds attention_scratch_floats.
void attention(const float* q, const KvLayer& cache, int64_t pos0, int64_t n_tokens, const AttentionShape& shape,
               float* out, ThreadPool& pool, float* scratch);

int64_t attention_scratch_floats(int n_threads, const AttentionShape& shape, int64_t max_len);

// f16 <-> f32 rows for the cache (F16C when the CPU has it).
void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n);
void f16_to_f32_row(const uint16_t* src, float* dst, int64_t n);

}  // namespace ernie
