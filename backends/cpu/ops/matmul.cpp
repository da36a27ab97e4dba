#include "backends/cpu/ops/matmul.h"

#include <algorithm>

#include "util/thread_pool.h"

namespace ernie {

float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
  }
  for (; i < n; ++i) acc[i & 7] += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void row_to_f32(const TensorView& w, int64_t mat, int64_t r, float* out) {
  convert_to_f32(w.type, w.row(mat, r), out, static_cast<size_t>(w.cols));
}

void matmul(const TensorView& w, int64_t mat, const float* x, int64_t n_tokens, int64_t ldx, float* y,
            int64_t ldy, ThreadPool& pool, float* scratch) {
  // Enough chunks to balance threads, each long enough to amortize dispatch.
  const int64_t n_chunks = std::min<int64_t>(w.rows, static_cast<int64_t>(pool.size()) * 8);
  const int64_t chunk = (w.rows + n_chunks - 1) / n_chunks;
  pool.parallel_for(n_chunks, [&](int64_t c, int thread) {
    float* row = scratch + static_cast<int64_t>(thread) * w.cols;
    const int64_t r1 = std::min(w.rows, (c + 1) * chunk);
    for (int64_t r = c * chunk; r < r1; ++r) {
      const float* wr;
      if (w.type == DType::F32) {
        wr = reinterpret_cast<const float*>(w.row(mat, r));
      } else {
        row_to_f32(w, mat, r, row);
        wr = row;
      }
      for (int64_t t = 0; t < n_tokens; ++t) y[t * ldy + r] = dot_f32(wr, x + t * ldx, w.cols);
    }
  });
}

}  // namespace ernie
