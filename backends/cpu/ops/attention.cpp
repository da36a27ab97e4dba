#include "backends/cpu/ops/attention.h"

#include <cmath>

#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/kernels/simd_x86.h"
#include "backends/cpu/ops/matmul.h"
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

int64_t attention_scratch_floats(int n_threads, const AttentionShape& s, int64_t max_len) {
  const int64_t group = s.n_heads / s.n_kv_heads;
  return static_cast<int64_t>(n_threads) * (group * max_len + s.head_dim);
}

namespace {

// One task: token t's `group` query heads that share kv head kvh.
struct GroupTask {
  const float* q;       // [group][hd]
  float* out;           // [group][hd]
  const void* k;        // cache rows of this kv head: row p at p * stride
  const void* v;
  bool f16;
  int64_t stride, len, group, hd, max_len;
  float scale;
  float* scores;  // [group][max_len]
  float* row;     // hd floats
};

// The scalar reference: plain loops, std::exp.
void attend_scalar(const GroupTask& a) {
  auto row_at = [&](const void* base, int64_t p) -> const float* {
    if (!a.f16) return static_cast<const float*>(base) + p * a.stride;
    const uint16_t* src = static_cast<const uint16_t*>(base) + p * a.stride;
    for (int64_t d = 0; d < a.hd; ++d) a.row[d] = f16_to_f32(src[d]);
    return a.row;
  };
  for (int64_t p = 0; p < a.len; ++p) {
    const float* row = row_at(a.k, p);
    for (int64_t g = 0; g < a.group; ++g) a.scores[g * a.max_len + p] = dot_f32(a.q + g * a.hd, row, a.hd) * a.scale;
  }
  for (int64_t g = 0; g < a.group; ++g) {
    float* sg = a.scores + g * a.max_len;
    float mx = -INFINITY;
    for (int64_t p = 0; p < a.len; ++p) mx = sg[p] > mx ? sg[p] : mx;
    float sum = 0;
    for (int64_t p = 0; p < a.len; ++p) {
      sg[p] = std::exp(sg[p] - mx);
      sum += sg[p];
    }
    const float inv = 1.0f / sum;
    for (int64_t p = 0; p < a.len; ++p) sg[p] *= inv;
    for (int64_t d = 0; d < a.hd; ++d) a.out[g * a.hd + d] = 0;
  }
  for (int64_t p = 0; p < a.len; ++p) {
    const float* row = row_at(a.v, p);
    for (int64_t g = 0; g < a.group; ++g) {
      const float wgt = a.scores[g * a.max_len + p];
      float* o = a.out + g * a.hd;
      for (int64_t d = 0; d < a.hd; ++d) o[d] += wgt * row[d];
    }
  }
}

using cpu::simd::hsum;
#define ERNIE_AVX2 ERNIE_TARGET_AVX2

// e^x for x <= 0 (scores minus their max): 2^(x log2 e) split into an
// integer power and a degree-6 polynomial on [-0.5, 0.5]; relative error
// ~2e-7, and 0 below e^-87.
ERNIE_AVX2 inline __m256 exp_nonpositive(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  const __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f));
  const __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_mul_ps(_mm256_sub_ps(t, n), _mm256_set1_ps(0.693147180559945309f));  // in [-0.35, 0.35]
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

// The same computation with 8-wide FMAs (head_dim a multiple of 8): each
// cached row is converted once for all the group's heads.
// Row p of a cache as f32 (converted into a.row when the cache is f16).
ERNIE_AVX2 inline const float* row_avx2(const GroupTask& a, const void* base, int64_t p) {
  if (!a.f16) return static_cast<const float*>(base) + p * a.stride;
  const uint16_t* src = static_cast<const uint16_t*>(base) + p * a.stride;
  for (int64_t d = 0; d < a.hd; d += 8) {
    _mm256_storeu_ps(a.row + d, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + d))));
  }
  return a.row;
}

ERNIE_AVX2 void attend_avx2(const GroupTask& a) {
  const int64_t hd = a.hd;
  for (int64_t p = 0; p < a.len; ++p) {
    const float* row = row_avx2(a, a.k, p);
    for (int64_t g = 0; g < a.group; ++g) {
      const float* qh = a.q + g * hd;
      __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
      int64_t d = 0;
      for (; d + 16 <= hd; d += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d), _mm256_loadu_ps(row + d), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d + 8), _mm256_loadu_ps(row + d + 8), acc1);
      }
      if (d < hd) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d), _mm256_loadu_ps(row + d), acc0);
      a.scores[g * a.max_len + p] = hsum(_mm256_add_ps(acc0, acc1)) * a.scale;
    }
  }
  for (int64_t g = 0; g < a.group; ++g) {
    float* sg = a.scores + g * a.max_len;
    float mx = -INFINITY;
    for (int64_t p = 0; p < a.len; ++p) mx = sg[p] > mx ? sg[p] : mx;
    const __m256 vmx = _mm256_set1_ps(mx);
    __m256 vsum = _mm256_setzero_ps();
    int64_t p = 0;
    for (; p + 8 <= a.len; p += 8) {
      const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(sg + p), vmx));
      _mm256_storeu_ps(sg + p, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum(vsum);
    for (; p < a.len; ++p) {
      sg[p] = std::exp(sg[p] - mx);
      sum += sg[p];
    }
    const float inv = 1.0f / sum;
    for (p = 0; p < a.len; ++p) sg[p] *= inv;
    for (int64_t d = 0; d < hd; ++d) a.out[g * hd + d] = 0;
  }
  for (int64_t p = 0; p < a.len; ++p) {
    const float* row = row_avx2(a, a.v, p);
    for (int64_t g = 0; g < a.group; ++g) {
      const __m256 w = _mm256_set1_ps(a.scores[g * a.max_len + p]);
      float* o = a.out + g * hd;
      for (int64_t d = 0; d < hd; d += 8) {
        _mm256_storeu_ps(o + d, _mm256_fmadd_ps(w, _mm256_loadu_ps(row + d), _mm256_loadu_ps(o + d)));
      }
    }
  }
}

}  // namespace

void attention(const float* q, const KvLayer& cache, int64_t pos0, int64_t n_tokens, const AttentionShape& s,
               float* out, ThreadPool& pool, float* scratch) {
  const int64_t group = s.n_heads / s.n_kv_heads, hd = s.head_dim;
  const int64_t q_dim = s.n_heads * hd;
  const int64_t max_len = pos0 + n_tokens;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // Chosen outside the tasks: the first ISA query may throw.
  const bool fast = have_f16c() && hd % 8 == 0;
  pool.parallel_for(n_tokens * s.n_kv_heads, [&](int64_t task, int thread) {
    const int64_t t = task / s.n_kv_heads, kvh = task % s.n_kv_heads;
    float* sc = scratch + static_cast<int64_t>(thread) * (group * max_len + hd);
    const int64_t head_off = kvh * hd;
    const size_t elem = cache.f16 ? 2 : 4;
    GroupTask a{q + t * q_dim + kvh * group * hd,
                out + t * q_dim + kvh * group * hd,
                static_cast<const uint8_t*>(cache.k) + head_off * elem,
                static_cast<const uint8_t*>(cache.v) + head_off * elem,
                cache.f16,
                s.kv_stride,
                pos0 + t + 1,
                group,
                hd,
                max_len,
                scale,
                sc,
                sc + group * max_len};
    if (fast) {
      attend_avx2(a);
    } else {
      attend_scalar(a);
    }
  });
}

}  // namespace ernie
