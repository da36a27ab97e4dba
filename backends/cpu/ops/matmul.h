// Matrix products against stored weights, y = x W^T, for a batch of
// activation rows. Float weights (f32/f16/bf16) multiply f32 activations;
// quantized weights multiply the A8 quantization of the same rows with the
// integer kernels of backends/cpu/kernels. Each output element is one dot
// product computed in the same order whatever the batch, so prompt-at-once
// and token-by-token evaluation give identical results.
//
// Several products run as one parallel loop (MatJob list): q/k/v share one
// dispatch, a MoE layer's experts another. Rows of every job are cut into
// chunks spread over the threads, long ones first and short ones last (by
// weight bytes and products), so threads finish together; in decode that
// splits each matrix's rows across threads, in prefill each chunk reuses its
// weight rows (16 at a time in the tile kernels) for every token.
#pragma once

#include <cstdint>

#include "model/weights.h"
#include "quant/blocks.h"

namespace ernie {

class ThreadPool;

// Converts row `r` of matrix `mat` of W to f32.
void row_to_f32(const TensorView& w, int64_t mat, int64_t r, float* out);

// The rows a product reads: input i is row idx[i] (or i when idx is null) of
// x (f32, stride ldx) and of a8 (its A8 quantization; required when the
// weights are quantized).
struct MatInput {
  const float* x = nullptr;
  int64_t ldx = 0;
  const quant::ActRowA8* a8 = nullptr;
  const int32_t* idx = nullptr;
  int64_t n = 0;
};

// One product. Output of input i goes to row y_idx[i] (or i) of y (stride
// ldy). With `up` set the job is a SwiGLU pair: y = silu(x W^T) * (x Up^T),
// the gate and up rows of the same output index computed together.
struct MatJob {
  const TensorView* w = nullptr;
  int64_t mat = 0;
  const TensorView* up = nullptr;
  MatInput in;
  float* y = nullptr;
  int64_t ldy = 0;
  const int32_t* y_idx = nullptr;
  bool accumulate = false;  // y += product
};

// Runs the jobs; returns when all are done. `scratch` holds
// matmul_scratch_floats(pool.size(), largest cols) floats: per thread, float
// weight rows converted to f32 and the prefill tile kernels' working memory.
void run_matmuls(const MatJob* jobs, int64_t n_jobs, ThreadPool& pool, float* scratch);

// Floats of scratch run_matmuls needs for rows of `max_cols`.
int64_t matmul_scratch_floats(int n_threads, int64_t max_cols);

}  // namespace ernie
