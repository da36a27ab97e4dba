// Causal grouped-query attention of a batch of new tokens over the KV cache.
#pragma once

#include <cstdint>

namespace ernie {

class ThreadPool;

struct AttentionShape {
  int64_t n_heads, n_kv_heads, head_dim;
  int64_t kv_stride;  // floats between consecutive positions in the cache
};

// For each new token t (position pos0 + t) and query head h:
//   out[t][h] = softmax(q[t][h] . K[0..pos]^T / sqrt(hd)) V[0..pos]
// using kv head h / (n_heads / n_kv_heads). `scores` holds pool.size() *
// (pos0 + n_tokens) floats.
void attention(const float* q, const float* k_cache, const float* v_cache, int64_t pos0, int64_t n_tokens,
               const AttentionShape& shape, float* out, ThreadPool& pool, float* scores);

}  // namespace ernie
