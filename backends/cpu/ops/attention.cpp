#include "backends/cpu/ops/attention.h"

#include <cmath>

#include "backends/cpu/ops/matmul.h"
#include "util/thread_pool.h"

namespace ernie {

void attention(const float* q, const float* k_cache, const float* v_cache, int64_t pos0, int64_t n_tokens,
               const AttentionShape& s, float* out, ThreadPool& pool, float* scores) {
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t q_dim = s.n_heads * s.head_dim;
  const int64_t max_len = pos0 + n_tokens;
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  pool.parallel_for(n_tokens * s.n_heads, [&](int64_t task, int thread) {
    const int64_t t = task / s.n_heads, h = task % s.n_heads;
    const int64_t kvh = h / group;
    const int64_t len = pos0 + t + 1;
    const float* qh = q + t * q_dim + h * s.head_dim;
    float* sc = scores + static_cast<int64_t>(thread) * max_len;
    float mx = -INFINITY;
    for (int64_t p = 0; p < len; ++p) {
      sc[p] = dot_f32(qh, k_cache + p * s.kv_stride + kvh * s.head_dim, s.head_dim) * scale;
      mx = sc[p] > mx ? sc[p] : mx;
    }
    float sum = 0;
    for (int64_t p = 0; p < len; ++p) {
      sc[p] = std::exp(sc[p] - mx);
      sum += sc[p];
    }
    const float inv = 1.0f / sum;
    float* o = out + t * q_dim + h * s.head_dim;
    for (int64_t d = 0; d < s.head_dim; ++d) o[d] = 0;
    for (int64_t p = 0; p < len; ++p) {
      const float wgt = sc[p] * inv;
      const float* vp = v_cache + p * s.kv_stride + kvh * s.head_dim;
      for (int64_t d = 0; d < s.head_dim; ++d) o[d] += wgt * vp[d];
    }
  });
}

}  // namespace ernie
