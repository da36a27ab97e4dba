#include "backends/cpu/ops/act_a8.h"

#include "quant/quantize.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace ernie {

void ActA8::reserve(int64_t max_rows, int64_t max_values) {
  max_values = (max_values + 31) / 32 * 32 + 32 * max_rows;  // room for every row's padding
  max_rows_ = max_rows;
  max_values_ = max_values;
  q_ = std::make_unique_for_overwrite<int8_t[]>(static_cast<size_t>(max_values));
  d_ = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(max_values / 32));
  s16_ = std::make_unique_for_overwrite<int16_t[]>(static_cast<size_t>(max_values / 16));
  ds_ = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(max_values / 32));
  rows_.resize(static_cast<size_t>(max_rows));
}

uint64_t ActA8::bytes_for(int64_t max_rows, int64_t max_values) {
  const auto v = static_cast<uint64_t>((max_values + 31) / 32 * 32 + 32 * max_rows);
  return v + 2 * (v / 32) * sizeof(float) + v / 16 * sizeof(int16_t) +
         static_cast<uint64_t>(max_rows) * sizeof(quant::ActRowA8);
}

void ActA8::append(const float* x, int64_t n, int64_t ldx, int64_t cols, ThreadPool& pool) {
  const int64_t stride = (cols + 31) / 32 * 32;
  ERNIE_CHECK(n_rows_ + n <= max_rows_ && n_values_ + n * stride <= max_values_ && cols % 32 == 0, ERNIE_E_INTERNAL,
              "activation quantization of %lld x %lld exceeds the reserved %lld rows, %lld values",
              static_cast<long long>(n), static_cast<long long>(cols), static_cast<long long>(max_rows_),
              static_cast<long long>(max_values_));
  const int64_t row0 = n_rows_, value0 = n_values_;
  auto one = [&](int64_t t) {
    const int64_t at = value0 + t * stride;
    int8_t* q = &q_[static_cast<size_t>(at)];
    float* d = &d_[static_cast<size_t>(at / 32)];
    int16_t* s = &s16_[static_cast<size_t>(at / 16)];
    float* ds = &ds_[static_cast<size_t>(at / 32)];
    quant::quantize_acts(x + t * ldx, cols, q, d, s, ds);
    rows_[static_cast<size_t>(row0 + t)] = {q, d, s, ds};
  };
  // A row is a few microseconds of work: only batches are worth spreading.
  if (n < 8) {
    for (int64_t t = 0; t < n; ++t) one(t);
  } else {
    pool.parallel_for(n, [&](int64_t t, int) { one(t); });
  }
  n_rows_ += n;
  n_values_ += n * stride;
}

}  // namespace ernie
