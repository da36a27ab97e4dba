// Test weights for the decoding kernels (test_matvec.cpp, test_dequantize.cpp):
// matrices of every storage type built on the host with the core's
// quantizer, plus raw random blocks (every code value, extreme f16 scales)
// and all-zero blocks; the reference values are the core's scalar decode
// (ernie::convert_to_f32) of the same bytes.
#pragma once

#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cuda/kernels/kernels.h"
#include "gpu/device_vec.h"
#include "format/dtype.h"

namespace gpu_weights {

using ernie::DType;

inline const DType kAllTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8,
                                  DType::Q6,  DType::Q4,  DType::Q2};

using gpu_test::DeviceVec;

// Column counts worth testing for a type: short and partial chunks of the
// kernels' 256-value walk, and the model's 2560.
inline std::vector<int64_t> test_cols(DType t) {
  switch (ernie::dtype_block_values(t)) {
    case 1: return {1, 7, 300, 2560};
    case 32: return {32, 288, 2560};
    default: return {256, 768, 2560};
  }
}

struct HostMatrix {
  DType type = DType::F32;
  int64_t n_mats = 1, rows = 0, cols = 0;
  uint64_t row_bytes = 0;
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // the scalar decode of every row

  float value(int64_t mat, int64_t r, int64_t c) const { return values[(mat * rows + r) * cols + c]; }
  std::string describe() const {
    return std::string(ernie::dtype_name(type)) + " " + std::to_string(n_mats) + "x" + std::to_string(rows) + "x" +
           std::to_string(cols);
  }
};

// An f16 scale: mostly moderate, sometimes the largest finite value, the
// smallest subnormal or the smallest normal, with either sign.
inline uint16_t random_f16_scale(std::mt19937& rng) {
  static const uint16_t kExtremes[] = {0x7bff, 0x0001, 0x0400, 0x3c00};
  const uint32_t pick = rng() % 8;
  const uint16_t sign = static_cast<uint16_t>(rng() & 0x8000u);
  if (pick < 4) return static_cast<uint16_t>(kExtremes[pick] | sign);
  return static_cast<uint16_t>(ernie::f32_to_f16(std::ldexp(1.0f, -static_cast<int>(rng() % 16))) | sign);
}

// Overwrites a quantized row with random bytes (every code pattern), then
// gives each block finite f16 scales (d, and dmin for q4/q2).
inline void randomize_quantized_row(DType t, uint8_t* row, int64_t cols, std::mt19937& rng) {
  const uint64_t block_bytes = ernie::dtype_block_bytes(t);
  const int64_t blocks = cols / static_cast<int64_t>(ernie::dtype_block_values(t));
  for (uint64_t i = 0; i < block_bytes * static_cast<uint64_t>(blocks); ++i) row[i] = static_cast<uint8_t>(rng());
  const int n_scales = (t == DType::Q4 || t == DType::Q2) ? 2 : 1;
  for (int64_t b = 0; b < blocks; ++b) {
    for (int s = 0; s < n_scales; ++s) {
      const uint16_t bits = random_f16_scale(rng);
      std::memcpy(row + b * block_bytes + 2 * s, &bits, 2);
    }
  }
}

// n_mats x rows x cols weights of type t. Row kinds by r % 4: 0 quantized
// random values, 1 the same with the first block (or 256 values) all zero,
// 2 raw random blocks (quantized types; else values of scale 1e-6 .. 1e4),
// 3 quantized values with a row scale from 1e-3 to 1e3.
inline HostMatrix make_matrix(DType t, int64_t n_mats, int64_t rows, int64_t cols, uint32_t seed) {
  HostMatrix m;
  m.type = t;
  m.n_mats = n_mats;
  m.rows = rows;
  m.cols = cols;
  m.row_bytes = ernie::dtype_row_bytes(t, static_cast<uint64_t>(cols));
  REQUIRE(m.row_bytes > 0);
  m.bytes.assign(m.row_bytes * static_cast<uint64_t>(n_mats * rows), 0);
  m.values.assign(static_cast<size_t>(n_mats * rows * cols), 0.0f);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  const bool quantized = ernie::dtype_is_quantized(t);
  std::vector<float> src(static_cast<size_t>(cols));
  for (int64_t i = 0; i < n_mats * rows; ++i) {
    uint8_t* row = m.bytes.data() + static_cast<uint64_t>(i) * m.row_bytes;
    const int kind = static_cast<int>((i % rows) % 4);
    if (kind == 2 && quantized) {
      randomize_quantized_row(t, row, cols, rng);
    } else {
      float scale = 1.0f;
      if (kind == 3) scale = std::pow(10.0f, 3.0f * uni(rng));
      for (auto& v : src) v = scale * uni(rng);
      if (kind == 2) {
        for (auto& v : src) v *= std::pow(10.0f, 5.0f * uni(rng) - 1.0f);
      }
      if (kind == 1) {
        const int64_t zeros = std::min<int64_t>(cols, std::max<int64_t>(256, ernie::dtype_block_values(t)));
        std::fill(src.begin(), src.begin() + zeros, 0.0f);
      }
      ernie::convert_from_f32(t, src.data(), row, static_cast<size_t>(cols));
    }
    ernie::convert_to_f32(t, row, &m.values[static_cast<size_t>(i * cols)], static_cast<size_t>(cols));
  }
  return m;
}

// The device copy of a HostMatrix; byte_offset 1 makes every row misaligned
// (the kernels then read byte by byte).
struct DeviceMatrix {
  DeviceVec<uint8_t> bytes;
  ernie::cuda::DevMatrix dev;
  DeviceMatrix(const HostMatrix& m, size_t byte_offset) : bytes(m.bytes, byte_offset) {
    dev.type = m.type;
    dev.n_mats = m.n_mats;
    dev.rows = m.rows;
    dev.cols = m.cols;
    dev.row_bytes = m.row_bytes;
    dev.data = bytes.p;
  }
};

inline std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace gpu_weights
