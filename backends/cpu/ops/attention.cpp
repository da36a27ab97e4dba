#include "backends/cpu/ops/attention.h"

#include <immintrin.h>

#include <cmath>

#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/ops/matmul.h"
#include "format/dtype.h"
#include "util/thread_pool.h"

namespace ernie {
namespace {

bool have_f16c() {
  static const bool yes = cpu::detect_isa() >= cpu::Isa::Avx2;  // the Avx2 level includes F16C
  return yes;
}

__attribute__((target("avx2,fma,f16c"))) void f16_to_f32_avx2(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

__attribute__((target("avx2,fma,f16c"))) void f32_to_f16_avx2(const float* src, uint16_t* dst, int64_t n) {
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

int64_t attention_scratch_floats(int n_threads, const AttentionShape& s, int64_t max_len) {
  const int64_t group = s.n_heads / s.n_kv_heads;
  return static_cast<int64_t>(n_threads) * (group * max_len + s.head_dim);
}

void attention(const float* q, const KvLayer& cache, int64_t pos0, int64_t n_tokens, const AttentionShape& s,
               float* out, ThreadPool& pool, float* scratch) {
  const int64_t group = s.n_heads / s.n_kv_heads, hd = s.head_dim;
  const int64_t q_dim = s.n_heads * hd;
  const int64_t max_len = pos0 + n_tokens;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const bool f16c = have_f16c();  // outside the tasks: the first call may throw
  pool.parallel_for(n_tokens * s.n_kv_heads, [&](int64_t task, int thread) {
    const int64_t t = task / s.n_kv_heads, kvh = task % s.n_kv_heads;
    const int64_t len = pos0 + t + 1;
    float* sc = scratch + static_cast<int64_t>(thread) * (group * max_len + hd);  // [group][len]
    float* buf = sc + group * max_len;  // one f16 K or V row converted to f32
    // Row of kv head kvh at position p, as f32.
    auto row_at = [&](const void* base, int64_t p) -> const float* {
      const int64_t at = p * s.kv_stride + kvh * hd;
      if (!cache.f16) return static_cast<const float*>(base) + at;
      const uint16_t* src = static_cast<const uint16_t*>(base) + at;
      if (f16c) {
        f16_to_f32_avx2(src, buf, hd);
      } else {
        for (int64_t d = 0; d < hd; ++d) buf[d] = f16_to_f32(src[d]);
      }
      return buf;
    };
    const float* qg = q + t * q_dim + kvh * group * hd;
    float* og = out + t * q_dim + kvh * group * hd;
    for (int64_t p = 0; p < len; ++p) {
      const float* row = row_at(cache.k, p);
      for (int64_t g = 0; g < group; ++g) sc[g * max_len + p] = dot_f32(qg + g * hd, row, hd) * scale;
    }
    for (int64_t g = 0; g < group; ++g) {
      float* sg = sc + g * max_len;
      float mx = -INFINITY;
      for (int64_t p = 0; p < len; ++p) mx = sg[p] > mx ? sg[p] : mx;
      float sum = 0;
      for (int64_t p = 0; p < len; ++p) {
        sg[p] = std::exp(sg[p] - mx);
        sum += sg[p];
      }
      const float inv = 1.0f / sum;
      for (int64_t p = 0; p < len; ++p) sg[p] *= inv;
      for (int64_t d = 0; d < hd; ++d) og[g * hd + d] = 0;
    }
    for (int64_t p = 0; p < len; ++p) {
      const float* row = row_at(cache.v, p);
      for (int64_t g = 0; g < group; ++g) {
        const float wgt = sc[g * max_len + p];
        float* o = og + g * hd;
        for (int64_t d = 0; d < hd; ++d) o[d] += wgt * row[d];
      }
    }
  });
}

}  // namespace ernie
