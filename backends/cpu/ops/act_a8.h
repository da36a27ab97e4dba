// Activation rows quantized to A8 (quant/blocks.h) once per matrix-product
// input and shared by every weight matrix that reads them: q, k and v read
// one quantization of the normed hidden state; every expert of a MoE layer
// reads the rows of its tokens from the same one.
#pragma once

#include <cstdint>
#include <vector>

#include "quant/blocks.h"

namespace ernie {

class ThreadPool;

class ActA8 {
 public:
  // Sizes the buffers for up to `max_rows` rows of `max_cols` values (a
  // multiple of 32). Allocates; call at session creation, not per token.
  void reserve(int64_t max_rows, int64_t max_cols);
  // Quantizes rows [0, n) of x (row stride ldx) of `cols` values.
  void quantize(const float* x, int64_t n, int64_t ldx, int64_t cols, ThreadPool& pool);
  const quant::ActRowA8* rows() const { return rows_.data(); }
  uint64_t bytes() const;

 private:
  std::vector<int8_t> q_;
  std::vector<float> d_;
  std::vector<int16_t> s16_;
  std::vector<quant::ActRowA8> rows_;
  int64_t max_rows_ = 0, max_cols_ = 0;
};

}  // namespace ernie
