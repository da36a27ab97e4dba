// q4x8, q4 with 8 rows interleaved (quant/blocks.h): the byte moves against
// q4, and the group kernels (backends/cpu/kernels/q4x8_dot.cpp) of every ISA
// this CPU runs against a float64 dot of the dequantized rows, on random,
// zero and extreme rows; a row's result must not depend on how many
// activation rows share the call (prefill equals decode) nor on the SIMD
// variant.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/kernels/quant_dot_variants.h"
#include "format/dtype.h"
#include "quant/q4x8_layout.h"
#include "quant/blocks.h"
#include "quant/quantize.h"
#include "support/quant_rows.h"
#include "util/error.h"

using ernie::DType;
using ernie::cpu::Isa;
using ernie::quant::ActRowA8;
using ernie::quant::kQ4X8Rows;
using namespace quant_rows;

namespace {

// 8 q4 rows of n values, one after the other.
using Rows = std::vector<uint8_t>;

Rows interleaved(const Rows& rows, int64_t n) {
  Rows out(rows.size());
  ernie::quant::interleave_q4x8(rows.data(), n / 256, out.data());
  return out;
}

// Float64 dot of q4 row r with a, and the sum of |terms| it forms (scale and
// min parts apart): the bound float rounding is relative to.
void reference(const Rows& rows, int r, int64_t n, const Acts& a, double* dot, double* magnitude) {
  using namespace ernie::quant;
  const auto* blocks = reinterpret_cast<const BlockQ4*>(rows.data()) + r * (n / 256);
  *dot = *magnitude = 0.0;
  for (int64_t v = 0; v < n; ++v) {
    const BlockQ4& b = blocks[v / 256];
    int sc = 0, m = 0;
    q4_scale_min(b.scales, static_cast<int>(v % 256 / 32), &sc, &m);
    const int q = (b.qs[32 * (v % 256 / 64) + v % 32] >> (4 * (v % 256 / 32 % 2))) & 15;
    const double scaled = double(ernie::f16_to_f32(b.d)) * sc * q, min = double(ernie::f16_to_f32(b.dmin)) * m;
    const double x = double(a.d[v / 32]) * a.q[v];
    *dot += (scaled - min) * x;
    *magnitude += (std::fabs(scaled) + std::fabs(min)) * std::fabs(x);
  }
}

void check_group(const Rows& rows, const std::vector<Acts>& acts, int64_t n) {
  const Rows group = interleaved(rows, n);
  std::vector<ActRowA8> views;
  for (const Acts& a : acts) views.push_back(a.view());
  for (Isa isa : isas_to_test()) {
    CAPTURE(ernie::cpu::isa_name(isa));
    const ernie::cpu::QuantGroupDotFn dot = ernie::cpu::quant_group_dot_kernel(DType::Q4X8, isa);
    REQUIRE(static_cast<bool>(dot));
    std::vector<float> single(4 * kQ4X8Rows);
    for (int j = 0; j < 4; ++j) dot(group.data(), &views[j], 1, n, &single[kQ4X8Rows * j]);
    for (int n_acts = 1; n_acts <= 4; ++n_acts) {
      CAPTURE(n_acts);
      std::vector<float> out(kQ4X8Rows * n_acts, NAN);
      dot(group.data(), views.data(), n_acts, n, out.data());
      for (int j = 0; j < n_acts; ++j) {
        for (int r = 0; r < kQ4X8Rows; ++r) {
          CAPTURE(j);
          CAPTURE(r);
          double want = 0, magnitude = 0;
          reference(rows, r, n, acts[j], &want, &magnitude);
          const float got = out[kQ4X8Rows * j + r];
          CHECK(std::fabs(double(got) - want) <= 1e-5 * magnitude);
          CHECK(got == single[kQ4X8Rows * j + r]);
        }
      }
      // The SIMD variants differ only in how the integer dots are formed.
      if (isa > Isa::Avx2) {
        std::vector<float> avx2(out.size());
        ernie::cpu::quant_group_dot_kernel(DType::Q4X8, Isa::Avx2)(group.data(), views.data(), n_acts, n, avx2.data());
        CHECK(out == avx2);
      }
    }
  }
}

Rows random_rows(int64_t n, std::mt19937& rng) {
  Rows rows;
  for (int r = 0; r < kQ4X8Rows; ++r) {
    const std::vector<uint8_t> row = random_row(DType::Q4, n, rng);
    rows.insert(rows.end(), row.begin(), row.end());
  }
  return rows;
}

}  // namespace

TEST_SUITE("quant") {

TEST_CASE("q4x8: the type's sizes and names") {
  CHECK(std::string(ernie::dtype_name(DType::Q4X8)) == "q4x8");
  DType t{};
  CHECK(ernie::dtype_from_name("q4x8", &t));
  CHECK(t == DType::Q4X8);
  CHECK(ernie::dtype_known(20));
  CHECK(ernie::dtype_is_quantized(DType::Q4X8));
  CHECK(ernie::dtype_row_group(DType::Q4X8) == 8);
  CHECK(ernie::dtype_row_group(DType::Q4) == 1);
  CHECK(ernie::dtype_row_bytes(DType::Q4X8, 2560) == ernie::dtype_row_bytes(DType::Q4, 2560));
  CHECK_FALSE(static_cast<bool>(ernie::cpu::quant_dot_kernel(DType::Q4X8, Isa::Avx2)));
  CHECK_FALSE(static_cast<bool>(ernie::cpu::quant_group_dot_kernel(DType::Q4, Isa::Avx2)));
}

TEST_CASE("q4x8: interleaving moves q4's bytes and nothing else") {
  std::mt19937 rng(5);
  for (int64_t n : {256, 1536, 2560}) {
    const Rows rows = random_rows(n, rng);
    const Rows group = interleaved(rows, n);
    Rows back(rows.size());
    ernie::quant::deinterleave_q4x8(group.data(), n / 256, back.data());
    CHECK(back == rows);
    // dequantize_row on the group = q4's dequantization of each row.
    std::vector<float> want(8 * n), got(8 * n);
    for (int r = 0; r < 8; ++r) {
      ernie::quant::dequantize_row(DType::Q4, rows.data() + r * rows.size() / 8, want.data() + r * n, n);
    }
    ernie::quant::dequantize_row(DType::Q4X8, group.data(), got.data(), 8 * n);
    CHECK(got == want);
    // quantize_row on 8 rows of floats = q4's per row, interleaved.
    Rows q4(rows.size()), q4x8(rows.size());
    for (int r = 0; r < 8; ++r) ernie::quant::quantize_row(DType::Q4, want.data() + r * n, q4.data() + r * q4.size() / 8, n);
    ernie::quant::quantize_row(DType::Q4X8, want.data(), q4x8.data(), 8 * n);
    CHECK(q4x8 == interleaved(q4, n));
  }
  // A group is 8 rows of whole super-blocks.
  std::vector<float> x(2048 + 256);
  std::vector<uint8_t> out(9 * 1152);
  CHECK_THROWS_AS(ernie::quant::quantize_row(DType::Q4X8, x.data(), out.data(), 256), ernie::Error);
  CHECK_THROWS_AS(ernie::quant::quantize_row(DType::Q4X8, x.data(), out.data(), 2048 + 256), ernie::Error);
}

TEST_CASE("q4x8: group kernels against a float64 dot, random and extreme rows") {
  std::mt19937 rng(11);
  for (int64_t n : {256, 1536, 2560}) {
    CAPTURE(n);
    std::vector<Acts> acts;
    for (int j = 0; j < 4; ++j) acts.push_back(random_acts(n, rng));
    check_group(random_rows(n, rng), acts, n);
    // Rows unlike each other in one group: zero, all codes and scales at
    // their largest with the largest and the smallest subnormal f16 scale.
    Rows mixed;
    const std::vector<std::vector<uint8_t>> kinds = {
        filled_row(DType::Q4, n, 0x00, 0x0000), filled_row(DType::Q4, n, 0xFF, 0x7BFF),
        filled_row(DType::Q4, n, 0xFF, 0x0001), random_row(DType::Q4, n, rng)};
    for (int r = 0; r < kQ4X8Rows; ++r) mixed.insert(mixed.end(), kinds[r % 4].begin(), kinds[r % 4].end());
    check_group(mixed, acts, n);
    // Extreme activations.
    check_group(mixed, {constant_acts(n, 127, 1.0f), constant_acts(n, -127, 1.0f), constant_acts(n, 0, 0.0f),
                        random_acts(n, rng)},
                n);
  }
}

TEST_CASE("q4x8: zero rows give exactly 0, bad arguments are rejected") {
  const int64_t n = 512;
  const Rows zero(8 * ernie::dtype_row_bytes(DType::Q4, n), 0);
  std::mt19937 rng(3);
  const Acts a = random_acts(n, rng);
  const ActRowA8 view = a.view();
  for (Isa isa : isas_to_test()) {
    const auto dot = ernie::cpu::quant_group_dot_kernel(DType::Q4X8, isa);
    std::vector<float> out(8, NAN);
    dot(zero.data(), &view, 1, n, out.data());
    for (float v : out) CHECK(v == 0.0f);
    CHECK_THROWS_AS(dot(zero.data(), &view, 0, n, out.data()), ernie::Error);
    CHECK_THROWS_AS(dot(zero.data(), &view, 1, 300, out.data()), ernie::Error);
  }
}

}  // TEST_SUITE
