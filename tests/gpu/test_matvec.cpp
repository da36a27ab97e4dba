// The matrix-vector kernels of backends/cuda/kernels/matvec.cu against a
// double-precision dot product of the core's scalar decode of the same
// weights (gpu_weights.h): every storage type, 1..8 tokens, odd row counts,
// partial chunks, strided x and y, misaligned rows, accumulate on and off,
// SwiGLU, and routed experts with repeated ids and x_row mapping.
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cuda/kernels/kernels.h"
#include "format/dtype.h"
#include "gpu/gpu_weights.h"
#include "util/error.h"

namespace {

using gpu_weights::DeviceMatrix;
using gpu_weights::DeviceVec;
using gpu_weights::HostMatrix;

// f32 accumulation: relative 1e-4 of the sum of |w x| terms.
constexpr double kRelTol = 1e-4;

struct Dot {
  double sum = 0, bound = 0;  // bound: sum of |w x|
};

Dot dot(const HostMatrix& w, int64_t mat, int64_t r, const float* x) {
  Dot d;
  for (int64_t c = 0; c < w.cols; ++c) {
    const double term = static_cast<double>(w.value(mat, r, c)) * x[c];
    d.sum += term;
    d.bound += std::fabs(term);
  }
  return d;
}

double silu(double g) { return g / (1.0 + std::exp(-g)); }

// Counts outputs off by more than their tolerance; reports the first.
struct Mismatches {
  int64_t bad = 0;
  std::string first;
  void check(double got, double want, double tol, const std::string& where) {
    if (std::fabs(got - want) <= tol) return;
    if (bad++ == 0) first = where + ": got " + std::to_string(got) + ", want " + std::to_string(want);
  }
};

void expect_none(const Mismatches& m, const std::string& what) {
  CHECK_MESSAGE(m.bad == 0, what << ": " << m.bad << " outputs differ; first " << m.first);
}

std::string at(int64_t t, int64_t r) { return "t " + std::to_string(t) + " row " + std::to_string(r); }

}  // namespace

TEST_CASE("gpu matvec: every type, row count, batch, stride and accumulate matches the CPU") {
  for (ernie::DType type : gpu_weights::kAllTypes) {
    for (int64_t rows : {1, 3, 37}) {
      for (int64_t cols : gpu_weights::test_cols(type)) {
        const HostMatrix w = gpu_weights::make_matrix(type, 2, rows, cols, static_cast<uint32_t>(rows * 7919 + cols));
        for (size_t byte_offset : {0, 1}) {
          const DeviceMatrix dw(w, byte_offset);
          for (int n_tok = 1; n_tok <= ernie::cuda::kMaxMatvecTokens; ++n_tok) {
            for (bool accumulate : {false, true}) {
              // Odd tokens: padded, misaligned rows of x and y; even: packed.
              const int64_t ldx = cols + (n_tok % 2 ? 3 : 0), ldy = rows + (n_tok % 2 ? 5 : 0);
              const int64_t mat = n_tok % 2;
              const size_t x_offset = n_tok % 2;
              const auto x = gpu_weights::random_floats(static_cast<size_t>(n_tok * ldx), 100 + n_tok);
              const auto y0 = gpu_weights::random_floats(static_cast<size_t>(n_tok * ldy), 200 + n_tok);
              DeviceVec<float> dx(x, x_offset), dy(y0);
              ernie::cuda::matvec(dw.dev, mat, dx.p, ldx, n_tok, dy.p, ldy, accumulate, nullptr);
              const auto y = dy.download();
              Mismatches m;
              for (int64_t t = 0; t < n_tok; ++t) {
                for (int64_t r = 0; r < rows; ++r) {
                  const Dot d = dot(w, mat, r, &x[t * ldx]);
                  const double base = accumulate ? y0[t * ldy + r] : 0.0;
                  m.check(y[t * ldy + r], base + d.sum, kRelTol * (d.bound + std::fabs(base)), at(t, r));
                }
                // Padding between rows stays untouched.
                for (int64_t r = rows; r < ldy; ++r) m.check(y[t * ldy + r], y0[t * ldy + r], 0, "padding " + at(t, r));
              }
              expect_none(m, w.describe() + " mat " + std::to_string(mat) + " n_tok " + std::to_string(n_tok) +
                                 (accumulate ? " accumulate" : "") + " byte offset " + std::to_string(byte_offset) +
                                 " ldx " + std::to_string(ldx) + " ldy " + std::to_string(ldy));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("gpu matvec_swiglu: silu(gate x) * (up x) for every type and batch") {
  for (ernie::DType type : gpu_weights::kAllTypes) {
    const int64_t rows = 37, cols = gpu_weights::test_cols(type)[1];
    const HostMatrix gate = gpu_weights::make_matrix(type, 3, rows, cols, 11);
    const HostMatrix up = gpu_weights::make_matrix(type, 3, rows, cols, 12);
    for (size_t byte_offset : {0, 1}) {
      const DeviceMatrix dg(gate, byte_offset), du(up, byte_offset);
      for (int n_tok = 1; n_tok <= ernie::cuda::kMaxMatvecTokens; ++n_tok) {
        const int64_t ldx = cols + 4, ldo = rows + 2, mat = 2;
        const auto x = gpu_weights::random_floats(static_cast<size_t>(n_tok * ldx), 300 + n_tok);
        DeviceVec<float> dx(x), dout(std::vector<float>(static_cast<size_t>(n_tok * ldo), 0.0f));
        ernie::cuda::matvec_swiglu(dg.dev, du.dev, mat, dx.p, ldx, n_tok, dout.p, ldo, nullptr);
        const auto out = dout.download();
        Mismatches m;
        for (int64_t t = 0; t < n_tok; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            const Dot g = dot(gate, mat, r, &x[t * ldx]), u = dot(up, mat, r, &x[t * ldx]);
            // silu' is at most 1.1 in magnitude: the gate's error passes through scaled by |u|.
            const double tol = kRelTol * (1.1 * g.bound * std::fabs(u.sum) + std::fabs(silu(g.sum)) * u.bound) + 1e-30;
            m.check(out[t * ldo + r], silu(g.sum) * u.sum, tol, at(t, r));
          }
        }
        expect_none(m, gate.describe() + " swiglu n_tok " + std::to_string(n_tok) + " byte offset " +
                           std::to_string(byte_offset));
      }
    }
  }
}

TEST_CASE("gpu matvec_experts and matvec_experts_swiglu: per-assignment experts and input rows") {
  // Seven assignments over five experts, some repeated; x_row picks among
  // three input rows (or is null: row a).
  const std::vector<int32_t> experts = {4, 0, 4, 2, 2, 1, 3};
  const std::vector<int32_t> x_rows = {2, 0, 1, 2, 2, 0, 1};
  const int n_assign = static_cast<int>(experts.size());
  for (ernie::DType type : gpu_weights::kAllTypes) {
    const int64_t rows = 37, cols = gpu_weights::test_cols(type).back();
    const HostMatrix gate = gpu_weights::make_matrix(type, 5, rows, cols, 21);
    const HostMatrix up = gpu_weights::make_matrix(type, 5, rows, cols, 22);
    const DeviceMatrix dg(gate, 0), du(up, 0);
    DeviceVec<int32_t> dexp(experts), dxrow(x_rows);
    const int64_t ldx = cols + 1, ldo = rows + 3;
    const auto x = gpu_weights::random_floats(static_cast<size_t>(n_assign * ldx), 400);
    DeviceVec<float> dx(x);
    for (bool mapped : {true, false}) {
      const std::string what = gate.describe() + (mapped ? " with x_row" : " without x_row");
      const int32_t* xr = mapped ? dxrow.p : nullptr;
      DeviceVec<float> dsw(std::vector<float>(static_cast<size_t>(n_assign * ldo), 0.0f));
      ernie::cuda::matvec_experts_swiglu(dg.dev, du.dev, dexp.p, dx.p, ldx, xr, n_assign, dsw.p, ldo, nullptr);
      const auto sw = dsw.download();
      Mismatches m;
      for (int a = 0; a < n_assign; ++a) {
        const float* xa = &x[(mapped ? x_rows[a] : a) * ldx];
        for (int64_t r = 0; r < rows; ++r) {
          const Dot g = dot(gate, experts[a], r, xa), u = dot(up, experts[a], r, xa);
          const double tol = kRelTol * (1.1 * g.bound * std::fabs(u.sum) + std::fabs(silu(g.sum)) * u.bound) + 1e-30;
          m.check(sw[a * ldo + r], silu(g.sum) * u.sum, tol, at(a, r));
        }
      }
      expect_none(m, what + " experts_swiglu");
    }
    // matvec_experts reads row a of x (no mapping).
    DeviceVec<float> dy(std::vector<float>(static_cast<size_t>(n_assign * ldo), 0.0f));
    ernie::cuda::matvec_experts(dg.dev, dexp.p, dx.p, ldx, n_assign, dy.p, ldo, nullptr);
    const auto y = dy.download();
    Mismatches m;
    for (int a = 0; a < n_assign; ++a) {
      for (int64_t r = 0; r < rows; ++r) {
        const Dot d = dot(gate, experts[a], r, &x[a * ldx]);
        m.check(y[a * ldo + r], d.sum, kRelTol * d.bound, at(a, r));
      }
    }
    expect_none(m, gate.describe() + " experts");
  }
}

TEST_CASE("gpu matvec: host-side argument errors throw") {
  const HostMatrix w = gpu_weights::make_matrix(ernie::DType::Q4, 1, 3, 256, 5);
  const DeviceMatrix dw(w, 0);
  DeviceVec<float> dx(std::vector<float>(256 * 9, 1.0f)), dy(std::vector<float>(3 * 9, 0.0f));
  CHECK_THROWS_AS(ernie::cuda::matvec(dw.dev, 0, dx.p, 256, 0, dy.p, 3, false, nullptr), ernie::Error);
  CHECK_THROWS_AS(ernie::cuda::matvec(dw.dev, 0, dx.p, 256, 9, dy.p, 3, false, nullptr), ernie::Error);
  CHECK_THROWS_AS(ernie::cuda::matvec(dw.dev, 1, dx.p, 256, 1, dy.p, 3, false, nullptr), ernie::Error);
  ernie::cuda::DevMatrix unknown = dw.dev;
  unknown.type = static_cast<ernie::DType>(7);
  CHECK_THROWS_AS(ernie::cuda::matvec(unknown, 0, dx.p, 256, 1, dy.p, 3, false, nullptr), ernie::Error);
  ernie::cuda::DevMatrix bad_bytes = dw.dev;
  bad_bytes.row_bytes += 1;
  CHECK_THROWS_AS(ernie::cuda::matvec(bad_bytes, 0, dx.p, 256, 1, dy.p, 3, false, nullptr), ernie::Error);
}
