// run_matmuls on the decode path (one to four inputs) against the row kernel
// called row by row: a single matrix is read as two streams (the two halves
// of each task's rows) and a gate/up pair as its two matrices, so every row
// count, odd or even, and every thread count must still give each output
// row exactly once, with the row kernel's bits.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/ops/matmul.h"
#include "backends/cpu/ops/norm_rope.h"
#include "quant/q4x8_layout.h"
#include "support/quant_rows.h"
#include "util/thread_pool.h"

using ernie::DType;
using namespace quant_rows;

TEST_CASE("matmul: decode rows, single matrices and gate/up pairs, every row once with the row kernel's bits") {
  const int64_t cols = 512;
  const ernie::cpu::QuantDotFn dot = ernie::cpu::quant_dot_kernel(DType::Q4, ernie::cpu::detect_isa());
  for (int64_t rows : {1, 2, 3, 16, 17, 33, 70, 101}) {
    for (int threads : {1, 2, 3}) {
      for (int n_in : {1, 3, 4}) {
        CAPTURE(rows);
        CAPTURE(threads);
        CAPTURE(n_in);
        std::mt19937 rng(static_cast<unsigned>(rows * 100 + threads * 10 + n_in));
        std::vector<uint8_t> gate_bytes, up_bytes;
        for (int64_t r = 0; r < rows; ++r) {
          const auto g = random_row(DType::Q4, cols, rng), u = random_row(DType::Q4, cols, rng);
          gate_bytes.insert(gate_bytes.end(), g.begin(), g.end());
          up_bytes.insert(up_bytes.end(), u.begin(), u.end());
        }
        const uint64_t row_bytes = ernie::dtype_row_bytes(DType::Q4, cols);
        const ernie::TensorView gate{DType::Q4, 1, rows, cols, row_bytes, gate_bytes.data()};
        const ernie::TensorView up{DType::Q4, 1, rows, cols, row_bytes, up_bytes.data()};
        std::vector<Acts> acts;
        std::vector<ActRowA8> views;
        for (int i = 0; i < n_in; ++i) acts.push_back(random_acts(cols, rng));
        for (const Acts& a : acts) views.push_back(a.view());
        ernie::ThreadPool pool(threads);
        std::vector<float> scratch(static_cast<size_t>(ernie::matmul_scratch_floats(pool.size(), cols)));
        for (const ernie::TensorView* pair : {static_cast<const ernie::TensorView*>(nullptr), &up}) {
          std::vector<float> y(static_cast<size_t>(n_in * rows), NAN);
          ernie::MatJob job;
          job.w = &gate;
          job.up = pair;
          job.in.a8 = views.data();
          job.in.n = n_in;
          job.y = y.data();
          job.ldy = rows;
          ernie::run_matmuls(&job, 1, pool, scratch.data());
          int mismatches = 0;
          for (int64_t r = 0; r < rows; ++r) {
            std::vector<float> g(static_cast<size_t>(n_in)), u(static_cast<size_t>(n_in));
            dot(gate.row(0, r), views.data(), n_in, cols, g.data());
            if (pair) dot(up.row(0, r), views.data(), n_in, cols, u.data());
            for (int i = 0; i < n_in; ++i) {
              const float want = pair ? ernie::silu(g[static_cast<size_t>(i)]) * u[static_cast<size_t>(i)] : g[static_cast<size_t>(i)];
              mismatches += !(y[static_cast<size_t>(i * rows + r)] == want);
            }
          }
          CHECK(mismatches == 0);
        }
      }
    }
  }
}

TEST_CASE("matmul: q4x8 weights, decode and prefill, every row once with the group kernel's bits") {
  const int64_t cols = 512;
  const ernie::cpu::QuantGroupDotFn dot = ernie::cpu::quant_group_dot_kernel(DType::Q4X8, ernie::cpu::detect_isa());
  REQUIRE(static_cast<bool>(dot));
  const uint64_t row_bytes = ernie::dtype_row_bytes(DType::Q4X8, cols);
  for (int64_t rows : {8, 16, 24, 40, 72, 104}) {
    for (int threads : {1, 2, 3}) {
      for (int n_in : {1, 3, 4, 7, 12}) {
        CAPTURE(rows);
        CAPTURE(threads);
        CAPTURE(n_in);
        std::mt19937 rng(static_cast<unsigned>(rows * 100 + threads * 10 + n_in));
        // Random bytes are valid q4x8 as they are valid q4 (then f16 scales set per row block).
        auto matrix = [&] {
          std::vector<uint8_t> q4;
          for (int64_t r = 0; r < rows; ++r) {
            const auto row = random_row(DType::Q4, cols, rng);
            q4.insert(q4.end(), row.begin(), row.end());
          }
          std::vector<uint8_t> out(q4.size());
          for (int64_t r = 0; r < rows; r += 8) {
            ernie::quant::interleave_q4x8(q4.data() + r * row_bytes, cols / 256, out.data() + r * row_bytes);
          }
          return out;
        };
        const std::vector<uint8_t> gate_bytes = matrix(), up_bytes = matrix();
        const ernie::TensorView gate{DType::Q4X8, 1, rows, cols, row_bytes, gate_bytes.data()};
        const ernie::TensorView up{DType::Q4X8, 1, rows, cols, row_bytes, up_bytes.data()};
        std::vector<Acts> acts;
        std::vector<ActRowA8> views;
        for (int i = 0; i < n_in; ++i) acts.push_back(random_acts(cols, rng));
        for (const Acts& a : acts) views.push_back(a.view());
        ernie::ThreadPool pool(threads);
        std::vector<float> scratch(static_cast<size_t>(ernie::matmul_scratch_floats(pool.size(), cols)));
        for (const ernie::TensorView* pair : {static_cast<const ernie::TensorView*>(nullptr), &up}) {
          std::vector<float> y(static_cast<size_t>(n_in * rows), NAN);
          ernie::MatJob job;
          job.w = &gate;
          job.up = pair;
          job.in.a8 = views.data();
          job.in.n = n_in;
          job.y = y.data();
          job.ldy = rows;
          ernie::run_matmuls(&job, 1, pool, scratch.data());
          int mismatches = 0;
          for (int64_t r = 0; r < rows; r += 8) {
            for (int i = 0; i < n_in; ++i) {  // one input per call: the bits do not depend on it
              float g[8], u[8];
              dot(gate.row(0, r), &views[static_cast<size_t>(i)], 1, cols, g);
              if (pair) dot(up.row(0, r), &views[static_cast<size_t>(i)], 1, cols, u);
              for (int b = 0; b < 8; ++b) {
                const float want = pair ? ernie::silu(g[b]) * u[b] : g[b];
                mismatches += !(y[static_cast<size_t>(i * rows + r + b)] == want);
              }
            }
          }
          CHECK(mismatches == 0);
        }
      }
    }
  }
}
