// Matrix products of a session's forward pass, one entry point whatever the
// batch: the matrix-vector kernels for up to kMaxMatvecTokens rows (decode),
// dequantized weight chunks and cuBLAS for more (prefill).
#pragma once

#include <cstdint>

#include "backends/cuda/runtime/cuda_session.h"

namespace ernie::cuda {

// y[t * ldy + r] = (y if accumulate) + W[mat][r] . x[t * ldx], t < n.
void product(CudaSessionState& s, const DevMatrix& w, int64_t mat, const float* x, int64_t ldx, int64_t n, float* y,
             int64_t ldy, bool accumulate);

// out[t * ldo + r] = silu(G[mat][r] . x_t) * (U[mat][r] . x_t). `up_rows`
// holds n * ldo floats of scratch for the batched path.
void product_swiglu(CudaSessionState& s, const DevMatrix& gate, const DevMatrix& up, int64_t mat, const float* x,
                    int64_t ldx, int64_t n, float* out, int64_t ldo, float* up_rows);

}  // namespace ernie::cuda
