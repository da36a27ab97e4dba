// dequantize_rows and gather_rows (backends/cuda/kernels/dequantize.cu)
// against the core's scalar decode of the same bytes (gpu_weights.h), for
// every storage type, with aligned and misaligned rows.
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <algorithm>
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

// The kernels round every operation like lib/quant, so values agree exactly
// where the host does not fuse d * sc * q - dmin * m into an FMA (aarch64
// may); the slack is a few ulps of the largest value of the 256-value block.
void expect_rows(const HostMatrix& w, int64_t mat, const std::vector<int64_t>& src_rows,
                 const std::vector<float>& got, const std::string& what) {
  REQUIRE(got.size() == src_rows.size() * static_cast<size_t>(w.cols));
  int64_t bad = 0;
  std::string first;
  for (size_t i = 0; i < src_rows.size(); ++i) {
    for (int64_t c0 = 0; c0 < w.cols; c0 += 256) {
      const int64_t c1 = std::min<int64_t>(w.cols, c0 + 256);
      double block_max = 0;
      for (int64_t c = c0; c < c1; ++c) block_max = std::max(block_max, std::fabs(double{w.value(mat, src_rows[i], c)}));
      for (int64_t c = c0; c < c1; ++c) {
        const double want = w.value(mat, src_rows[i], c), have = got[i * w.cols + c];
        if (std::fabs(have - want) <= 0x1p-21 * block_max) continue;
        if (bad++ == 0) {
          first = "row " + std::to_string(i) + " (source " + std::to_string(src_rows[i]) + ") col " +
                  std::to_string(c) + ": got " + std::to_string(have) + ", want " + std::to_string(want);
        }
      }
    }
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " values differ; first " << first);
}

}  // namespace

TEST_CASE("gpu dequantize_rows: every type matches the scalar decode") {
  for (ernie::DType type : gpu_weights::kAllTypes) {
    for (int64_t cols : gpu_weights::test_cols(type)) {
      const int64_t rows = 37;
      const HostMatrix w = gpu_weights::make_matrix(type, 3, rows, cols, static_cast<uint32_t>(cols + 17));
      for (size_t byte_offset : {0, 1}) {
        const DeviceMatrix dw(w, byte_offset);
        struct Range {
          int64_t mat, row0, n;
        };
        for (const Range& rg : {Range{0, 0, rows}, Range{1, 5, 1}, Range{2, 3, 33}}) {
          DeviceVec<float> dout(std::vector<float>(static_cast<size_t>(rg.n * cols), -1.0f));
          ernie::cuda::dequantize_rows(dw.dev, rg.mat, rg.row0, rg.n, dout.p, nullptr);
          std::vector<int64_t> src(static_cast<size_t>(rg.n));
          for (int64_t i = 0; i < rg.n; ++i) src[i] = rg.row0 + i;
          expect_rows(w, rg.mat, src, dout.download(),
                      w.describe() + " mat " + std::to_string(rg.mat) + " rows " + std::to_string(rg.row0) + "+" +
                          std::to_string(rg.n) + " byte offset " + std::to_string(byte_offset));
        }
      }
    }
  }
}

TEST_CASE("gpu gather_rows: embedding lookup of arbitrary, repeated ids") {
  const std::vector<int32_t> ids = {5, 0, 36, 5, 17, 1, 36, 2, 0};
  for (ernie::DType type : gpu_weights::kAllTypes) {
    const int64_t rows = 37, cols = gpu_weights::test_cols(type)[1];
    const HostMatrix w = gpu_weights::make_matrix(type, 1, rows, cols, 99);
    for (size_t byte_offset : {0, 1}) {
      const DeviceMatrix dw(w, byte_offset);
      DeviceVec<int32_t> did(ids);
      DeviceVec<float> dout(std::vector<float>(ids.size() * static_cast<size_t>(cols), -1.0f));
      ernie::cuda::gather_rows(dw.dev, did.p, static_cast<int64_t>(ids.size()), dout.p, nullptr);
      expect_rows(w, 0, std::vector<int64_t>(ids.begin(), ids.end()), dout.download(),
                  w.describe() + " gather, byte offset " + std::to_string(byte_offset));
    }
  }
}

TEST_CASE("gpu dequantize_rows: out-of-range rows throw") {
  const HostMatrix w = gpu_weights::make_matrix(ernie::DType::Q6, 2, 4, 256, 3);
  const DeviceMatrix dw(w, 0);
  DeviceVec<float> dout(std::vector<float>(4 * 256, 0.0f));
  CHECK_THROWS_AS(ernie::cuda::dequantize_rows(dw.dev, 2, 0, 1, dout.p, nullptr), ernie::Error);
  CHECK_THROWS_AS(ernie::cuda::dequantize_rows(dw.dev, 0, 3, 2, dout.p, nullptr), ernie::Error);
}
