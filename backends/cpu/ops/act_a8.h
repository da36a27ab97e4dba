// Activation rows quantized to A8 (quant/blocks.h) once per matrix-product
// input and shared by every weight matrix that reads them: q, k and v read
// one quantization of the normed hidden state; every expert of a MoE layer
// reads the rows of its tokens from the same one.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "quant/blocks.h"

namespace ernie {

class ThreadPool;

class ActA8 {
 public:
  // Sizes the buffers for up to `max_rows` rows holding `max_values` values
  // in all (each row padded to a multiple of 32). Allocates; call at session
  // creation, not per token.
  void reserve(int64_t max_rows, int64_t max_values);
  // Replaces the rows with the quantization of rows [0, n) of x (row stride
  // ldx) of `cols` values.
  void quantize(const float* x, int64_t n, int64_t ldx, int64_t cols, ThreadPool& pool) {
    n_rows_ = n_values_ = 0;
    append(x, n, ldx, cols, pool);
  }
  // Adds rows after the current ones (rows of different widths can share
  // the buffer: a MoE layer's expert rows and its shared-expert rows).
  void append(const float* x, int64_t n, int64_t ldx, int64_t cols, ThreadPool& pool);
  const quant::ActRowA8* rows() const { return rows_.data(); }
  static uint64_t bytes_for(int64_t max_rows, int64_t max_values);

 private:
  // Not zero-filled: every value is written before it is read.
  std::unique_ptr<int8_t[]> q_;
  std::unique_ptr<float[]> d_;
  std::unique_ptr<int16_t[]> s16_;
  std::unique_ptr<float[]> ds_;
  std::vector<quant::ActRowA8> rows_;
  int64_t max_rows_ = 0, max_values_ = 0;
  int64_t n_rows_ = 0, n_values_ = 0;  // in use
};

}  // namespace ernie
