// Quantized rows and activation rows for the kernel tests: random blocks
// with valid codes and finite scales, filled blocks for edge cases, and A8
// activation rows with their 16-value sums.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/kernels/quant_dot_variants.h"
#include "format/dtype.h"
#include "quant/blocks.h"

namespace quant_rows {

using ernie::DType;
using ernie::quant::ActRowA8;

inline int64_t block_values(DType t) { return static_cast<int64_t>(ernie::dtype_block_values(t)); }
inline size_t block_bytes(DType t) { return static_cast<size_t>(ernie::dtype_block_bytes(t)); }

// One activation row with its codes, scales and 16-value sums.
struct Acts {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int16_t> s16;
  std::vector<float> ds;

  explicit Acts(int64_t n) : q(n), d(n / 32), s16(n / 16), ds(n / 32) {}
  void finish() {  // s16 and ds from the codes and scales
    for (size_t h = 0; h < s16.size(); ++h) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += q[16 * h + i];
      s16[h] = static_cast<int16_t>(s);
    }
    for (size_t g = 0; g < ds.size(); ++g) ds[g] = d[g] * static_cast<float>(s16[2 * g] + s16[2 * g + 1]);
  }
  ActRowA8 view() const { return {q.data(), d.data(), s16.data(), ds.data()}; }
};

// Every instruction set this CPU runs, scalar first.
inline std::vector<ernie::cpu::Isa> isas_to_test() {
  std::vector<ernie::cpu::Isa> out;
  for (ernie::cpu::Isa isa : ernie::cpu::kIsas) {
    if (isa <= ernie::cpu::cpu_supported_isa()) out.push_back(isa);
  }
  return out;
}

inline Acts random_acts(int64_t n, std::mt19937& rng) {
  Acts a(n);
  std::uniform_int_distribution<int> code(-127, 127);
  std::uniform_real_distribution<float> scale(-8.0f, 2.0f);
  for (auto& q : a.q) q = static_cast<int8_t>(code(rng));
  for (auto& d : a.d) d = std::exp2(scale(rng));
  a.finish();
  return a;
}

inline Acts constant_acts(int64_t n, int code, float d) {
  Acts a(n);
  for (auto& q : a.q) q = static_cast<int8_t>(code);
  for (auto& s : a.d) s = d;
  a.finish();
  return a;
}

// Offsets of the f16 fields (d, and dmin where the type has one) in a block.
inline std::vector<size_t> f16_fields(DType t) {
  if (t == DType::Q4 || t == DType::Q2) return {0, 2};
  return {0};
}

inline void set_f16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// Random bytes (every code and packed scale is valid) with finite f16 scales
// drawn from [2^-12, 2^2).
inline std::vector<uint8_t> random_row(DType t, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> row(ernie::dtype_row_bytes(t, n));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> exponent(-12.0f, 2.0f);
  for (auto& b : row) b = static_cast<uint8_t>(byte(rng));
  for (size_t off = 0; off < row.size(); off += block_bytes(t)) {
    for (size_t f : f16_fields(t)) set_f16(&row[off + f], ernie::f32_to_f16(std::exp2(exponent(rng))));
  }
  return row;
}

// Every byte `fill`, then every f16 field `scale`.
inline std::vector<uint8_t> filled_row(DType t, int64_t n, uint8_t fill, uint16_t scale) {
  std::vector<uint8_t> row(ernie::dtype_row_bytes(t, n), fill);
  for (size_t off = 0; off < row.size(); off += block_bytes(t)) {
    for (size_t f : f16_fields(t)) set_f16(&row[off + f], scale);
  }
  return row;
}

}  // namespace quant_rows
