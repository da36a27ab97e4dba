#include "backends/cuda/runtime/products.h"

#include <algorithm>

#include "backends/cuda/runtime/cublas_api.h"
#include "util/error.h"

namespace ernie::cuda {

void product(CudaSessionState& s, const DevMatrix& w, int64_t mat, const float* x, int64_t ldx, int64_t n, float* y,
             int64_t ldy, bool accumulate) {
  if (n <= kMaxMatvecTokens) {
    matvec(w, mat, x, ldx, static_cast<int>(n), y, ldy, accumulate, s.stream);
    return;
  }
  // Row-major Y[n][rows] is column-major Y^T (rows x n, ld ldy), so each
  // chunk is Y^T[r0..] = Wchunk * X^T with the f32 chunk read transposed.
  const int64_t chunk_rows = std::max<int64_t>(1, static_cast<int64_t>(s.sizes.dequant_floats) / w.cols);
  const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  for (int64_t r0 = 0; r0 < w.rows; r0 += chunk_rows) {
    const int64_t m = std::min(chunk_rows, w.rows - r0);
    dequantize_rows(w, mat, r0, m, s.dequant.as<float>(), s.stream);
    const cublasStatus_t st = cublas_api().sgemm(
        s.cublas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m), static_cast<int>(n), static_cast<int>(w.cols), &one,
        s.dequant.as<float>(), static_cast<int>(w.cols), x, static_cast<int>(ldx), &beta, y + r0,
        static_cast<int>(ldy));
    if (st != CUBLAS_STATUS_SUCCESS) {
      throw Error(ERNIE_E_BACKEND, "cuBLAS: sgemm failed (status " + std::to_string(static_cast<int>(st)) + ")");
    }
  }
}

void product_swiglu(CudaSessionState& s, const DevMatrix& gate, const DevMatrix& up, int64_t mat, const float* x,
                    int64_t ldx, int64_t n, float* out, int64_t ldo, float* up_rows) {
  if (n <= kMaxMatvecTokens) {
    matvec_swiglu(gate, up, mat, x, ldx, static_cast<int>(n), out, ldo, s.stream);
    return;
  }
  product(s, gate, mat, x, ldx, n, out, ldo, false);
  product(s, up, mat, x, ldx, n, up_rows, ldo, false);
  silu_mul(out, ldo, up_rows, ldo, n, gate.rows, s.stream);
}

}  // namespace ernie::cuda
