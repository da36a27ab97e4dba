// Weights to f32 rows (kernels.h): dequantize_rows for the cuBLAS prefill
// path and load-time conversions, gather_rows for the embedding lookup. Both
// decode with decode_block.cuh: one warp per output row, walking it in
// 256-value chunks, so every value comes out exactly as lib/quant computes it.
#include <algorithm>
#include <string>

#include "backends/cuda/kernels/decode_block.cuh"
#include "backends/cuda/kernels/kernels.h"
#include "util/error.h"

namespace ernie::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kThreads = 32 * kWarpsPerBlock;
constexpr int64_t kMaxBlocks = 65535;  // warps loop over the remaining rows

// out[i * cols + c] = W[i-th source row][c] for i < n_rows; the source row is
// ids[i] when ids is given (gather), else row0 + i.
template <DType T, bool kAligned>
__global__ void __launch_bounds__(kThreads)
    dequantize_kernel(const uint8_t* mat, int64_t cols, int64_t row_bytes, int64_t row0, const int32_t* ids,
                      int64_t n_rows, float* out) {
  using C = Codec<T>;
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  const int64_t chunks = row_chunks(cols);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); i < n_rows; i += warps) {
    const int64_t src = ids ? static_cast<int64_t>(ids[i]) : row0 + i;
    const uint8_t* row = mat + src * row_bytes;
    float* dst = out + i * cols;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      float w[kLaneValues];
      C::template decode<kAligned>(row, cols, chunk, lane, w);
      const int64_t c0 = chunk * kChunkValues;
#pragma unroll
      for (int r = 0; r < C::kRuns; ++r) {
        const int64_t c = c0 + C::run_col(lane, r);
        if (c >= cols) continue;  // runs never straddle the row's end
#pragma unroll
        for (int e = 0; e < C::kRun; ++e) dst[c + e] = w[r * C::kRun + e];
      }
    }
  }
}

void launch(const DevMatrix& w, int64_t mat, int64_t row0, const int32_t* ids, int64_t n_rows, float* out,
            cudaStream_t stream, const char* what) {
  check_matrix(w, what);
  if (mat < 0 || mat >= w.n_mats || n_rows < 0 || (ids == nullptr && (row0 < 0 || row0 + n_rows > w.rows))) {
    throw Error(ERNIE_E_BACKEND, std::string("CUDA kernels: ") + what + ": rows out of range");
  }
  if (n_rows == 0) return;
  const uint8_t* base = w.data + mat * w.rows * static_cast<int64_t>(w.row_bytes);
  const int64_t blocks = std::min((n_rows + kWarpsPerBlock - 1) / kWarpsPerBlock, kMaxBlocks);
  auto run = [&](auto type, auto align) {
    constexpr DType T = decltype(type)::value;
    constexpr bool A = decltype(align)::value;
    dequantize_kernel<T, A><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
        base, w.cols, static_cast<int64_t>(w.row_bytes), row0, ids, n_rows, out);
  };
  dispatch_type(w.type, rows_aligned(w), run);
  check(cudaGetLastError(), what);
}

}  // namespace

void dequantize_rows(const DevMatrix& w, int64_t mat, int64_t row0, int64_t n_rows, float* out,
                     cudaStream_t stream) {
  launch(w, mat, row0, nullptr, n_rows, out, stream, "dequantize_rows");
}

void gather_rows(const DevMatrix& w, const int32_t* ids, int64_t n, float* out, cudaStream_t stream) {
  if (n > 0 && ids == nullptr) throw Error(ERNIE_E_BACKEND, "CUDA kernels: gather_rows: no ids");
  launch(w, 0, 0, ids, n, out, stream, "gather_rows");
}

}  // namespace ernie::cuda
