#include "backends/cpu/ops/act_a8.h"

#include "quant/quantize.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace ernie {

void ActA8::reserve(int64_t max_rows, int64_t max_cols) {
  max_cols = (max_cols + 31) / 32 * 32;
  max_rows_ = max_rows;
  max_cols_ = max_cols;
  q_.resize(static_cast<size_t>(max_rows * max_cols));
  d_.resize(static_cast<size_t>(max_rows * max_cols / 32));
  s16_.resize(static_cast<size_t>(max_rows * max_cols / 16));
  rows_.resize(static_cast<size_t>(max_rows));
}

uint64_t ActA8::bytes() const {
  return q_.size() + d_.size() * sizeof(float) + s16_.size() * sizeof(int16_t) +
         rows_.size() * sizeof(quant::ActRowA8);
}

void ActA8::quantize(const float* x, int64_t n, int64_t ldx, int64_t cols, ThreadPool& pool) {
  ERNIE_CHECK(n <= max_rows_ && cols <= max_cols_ && cols % 32 == 0, ERNIE_E_INTERNAL,
              "activation quantization of %lld x %lld exceeds the reserved %lld x %lld", static_cast<long long>(n),
              static_cast<long long>(cols), static_cast<long long>(max_rows_), static_cast<long long>(max_cols_));
  auto one = [&](int64_t t) {
    int8_t* q = &q_[static_cast<size_t>(t * max_cols_)];
    float* d = &d_[static_cast<size_t>(t * max_cols_ / 32)];
    int16_t* s = &s16_[static_cast<size_t>(t * max_cols_ / 16)];
    quant::quantize_acts(x + t * ldx, cols, q, d, s);
    rows_[static_cast<size_t>(t)] = {q, d, s};
  };
  // A row is a few microseconds of work: only batches are worth spreading.
  if (n < 8) {
    for (int64_t t = 0; t < n; ++t) one(t);
  } else {
    pool.parallel_for(n, [&](int64_t t, int) { one(t); });
  }
}

}  // namespace ernie
