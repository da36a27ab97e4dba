// Causal grouped-query attention of a batch of new tokens over the KV cache,
// which holds keys and values as f32 or f16 (half the bytes to read per
// decoded token).
#pragma once

#include <cstdint>

namespace ernie {

class ThreadPool;

struct AttentionShape {
  int64_t n_heads, n_kv_heads, head_dim;
};

// One layer's cache, f32 values or f16 bit patterns: position p of kv head h
// starts at element p * pos_stride + h * head_stride. The sessions keep each
// kv head's positions adjacent (pos_stride = head_dim), so a run of a head's
// positions is one contiguous range to stream; heads side by side in a row
// (pos_stride = n_kv_heads * head_dim, head_stride = head_dim) work too.
struct KvLayer {
  const void* k = nullptr;
  const void* v = nullptr;
  bool f16 = false;
  int64_t pos_stride = 0, head_stride = 0;
};

// For each new token t (position pos0 + t) and query head h:
//   out[t][h] = softmax(q[t][h] . K[0..pos]^T / sqrt(hd)) V[0..pos]
// using kv head h / (n_heads / n_kv_heads). The query heads that share a kv
// head are computed together, so a cached row is read once for all of them,
// over chunks of positions (kernels/attn_chunk.h) whose partial softmaxes
// are merged in order. A task takes one query (token, kv head) and a run of
// its chunks: all of them when there are enough queries to keep the threads
// busy (prefill), else runs that give every thread the same number of
// chunks (decode), each chunk's rows requested while the one before
// computes. Every way gives the same bits.
// `scratch` holds attention_scratch_floats.
void attention(const float* q, const KvLayer& cache, int64_t pos0, int64_t n_tokens, const AttentionShape& shape,
               float* out, ThreadPool& pool, float* scratch);

int64_t attention_scratch_floats(int n_threads, const AttentionShape& shape, int64_t max_len);

// f16 <-> f32 rows for the cache (F16C when the CPU has it).
void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n);
void f16_to_f32_row(const uint16_t* src, float* dst, int64_t n);

}  // namespace ernie
