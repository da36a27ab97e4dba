// Matrix products against stored weights: y = x W^T for a batch of
// activation rows. Each output element is one dot product computed in the
// same order whatever the batch size, so prompt-at-once and token-by-token
// evaluation give identical results.
#pragma once

#include <cstdint>

#include "model/weights.h"

namespace ernie {

class ThreadPool;

// Scalar reference dot product with 8 interleaved f32 accumulators (a fixed
// summation order, which vectorizes).
float dot_f32(const float* a, const float* b, int64_t n);

// Converts row `r` of matrix `mat` of W to f32.
void row_to_f32(const TensorView& w, int64_t mat, int64_t r, float* out);

// y[t * ldy + r] = dot(W[mat][r], x[t * ldx ...]) for t < n_tokens and
// r < W.rows. `scratch` holds pool.size() * W.cols floats (row conversion).
void matmul(const TensorView& w, int64_t mat, const float* x, int64_t n_tokens, int64_t ldx, float* y,
            int64_t ldy, ThreadPool& pool, float* scratch);

}  // namespace ernie
