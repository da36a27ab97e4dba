// The CUDA backend's kernels, as host functions that enqueue them on a
// stream. Activations are f32 on the device; weights stay in their packed
// bytes (f32/f16/bf16 or the q8/q6/q4/q2 blocks of lib/quant/blocks.h) and
// are decoded in registers. Every function only enqueues work (no sync, no
// allocation), so a decode step can be captured in a CUDA graph.
//
// Positions come from device memory (`const int32_t* pos0`): a captured
// graph replays with the position the host wrote before the launch.
//
// Each kernel's scalar reference is the CPU one (lib/quant for decoding,
// backends/cpu/ops and moe_router for the rest); tests/gpu compares them.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "format/dtype.h"

namespace ernie::cuda {

// A weight matrix (or a stack of n_mats matrices, routed experts) on the
// device, rows in the packed file's layout.
struct DevMatrix {
  DType type = DType::F32;
  int64_t n_mats = 1;
  int64_t rows = 0;
  int64_t cols = 0;
  uint64_t row_bytes = 0;
  const uint8_t* data = nullptr;  // device
};

// The most tokens the matrix-vector kernels take in one launch; larger
// batches go through dequantize + cuBLAS.
constexpr int kMaxMatvecTokens = 8;

// ---- matvec.cu: products for decode and small batches -------------------

// y[t * ldy + r] = (y[...] if accumulate) + sum_c W[mat][r][c] * x[t * ldx + c]
// for t < n_tok (1..kMaxMatvecTokens), r < rows.
void matvec(const DevMatrix& w, int64_t mat, const float* x, int64_t ldx, int n_tok, float* y, int64_t ldy,
            bool accumulate, cudaStream_t stream);

// SwiGLU of gate and up in one pass over both matrices:
// out[t * ldo + r] = silu(G[mat] x_t)[r] * (U[mat] x_t)[r].
void matvec_swiglu(const DevMatrix& gate, const DevMatrix& up, int64_t mat, const float* x, int64_t ldx, int n_tok,
                   float* out, int64_t ldo, cudaStream_t stream);

// Routed experts, one launch for all n_assign (token, rank) assignments:
// assignment a uses expert expert[a] (device) and input row x_row[a]
// (device; nullptr means row a) and writes output row a.
void matvec_experts_swiglu(const DevMatrix& gate, const DevMatrix& up, const int32_t* expert, const float* x,
                           int64_t ldx, const int32_t* x_row, int n_assign, float* out, int64_t ldo,
                           cudaStream_t stream);
// y[a * ldy + r] = sum_c W[expert[a]][r][c] * x[a * ldx + c].
void matvec_experts(const DevMatrix& w, const int32_t* expert, const float* x, int64_t ldx, int n_assign, float* y,
                    int64_t ldy, cudaStream_t stream);

// ---- dequantize.cu: weights to f32 ---------------------------------------

// out[i * cols + c] = W[mat][row0 + i][c] for i < n_rows (for cuBLAS
// prefill; also norm weights and the router at load time).
void dequantize_rows(const DevMatrix& w, int64_t mat, int64_t row0, int64_t n_rows, float* out,
                     cudaStream_t stream);
// Embedding lookup: out[t * cols + c] = W[0][ids[t]][c] for t < n (ids on the device).
void gather_rows(const DevMatrix& w, const int32_t* ids, int64_t n, float* out, cudaStream_t stream);

// ---- ops.cu: elementwise and small reductions ----------------------------

// out[t] = x[t] * w / sqrt(mean(x[t]^2) + eps), rows of n (n <= 16384).
void rmsnorm(const float* x, const float* w, float eps, float* out, int64_t n_rows, int64_t n, cudaStream_t stream);
// Interleaved ("rotate every two") RoPE in place over rows [n_tok][n_heads * head_dim];
// token t is at position *pos0 + t; angle = pos * theta^(-2i / head_dim), computed in double.
void rope_interleaved(float* v, int64_t n_tok, int64_t n_heads, int64_t head_dim, double theta,
                      const int32_t* pos0, cudaStream_t stream);
// g[i] = silu(g[i]) * u[i] over rows [n_rows][n] with strides ldg / ldu.
void silu_mul(float* g, int64_t ldg, const float* u, int64_t ldu, int64_t n_rows, int64_t n, cudaStream_t stream);
// f32 rows to and from the f16 KV cache: cache[(*pos0 + t) * kv_dim + i] = src[t * kv_dim + i].
void store_kv_f16(const float* k, const float* v, uint16_t* k_cache, uint16_t* v_cache, int64_t n_tok,
                  int64_t kv_dim, const int32_t* pos0, cudaStream_t stream);

// Router of one MoE layer for n_tok tokens (n_experts <= 256, k <= 32),
// exactly moe_router.cpp's route_token: softmax of the logits, top-k by
// probability + bias (ties to the lower expert id), weights renormalised by
// max(sum of chosen probs, norm_min). Writes expert[t * k + j] and weight[t * k + j].
void route_topk(const float* logits, const float* bias, int64_t n_tok, int64_t n_experts, int64_t k,
                double norm_min, int32_t* expert, float* weight, cudaStream_t stream);
// x[t][i] += sum_j weight[t * k + j] * moe_out[(t * k + j) * n + i] (+ shared[t * n + i] if not null),
// summed in rank order like the CPU.
void moe_combine(float* x, const float* moe_out, const float* weight, const float* shared, int64_t n_tok,
                 int64_t k, int64_t n, cudaStream_t stream);
// y[i] += x[i].
void add_inplace(float* y, const float* x, int64_t n, cudaStream_t stream);
// dst[i * cols + c] = src[rows[i] * ld + c] (gather of activation rows).
void gather_act_rows(const float* src, int64_t ld, const int32_t* rows, int64_t n, int64_t cols, float* dst,
                     cudaStream_t stream);
// dst[rows[i] * ld + c] = src[i * cols + c] (scatter of activation rows).
void scatter_act_rows(const float* src, int64_t cols, const int32_t* rows, int64_t n, float* dst, int64_t ld,
                      cudaStream_t stream);

// ---- attention.cu: causal GQA over the f16 KV cache ----------------------

struct AttentionShape {
  int64_t n_heads, n_kv_heads, head_dim;  // head_dim: 16, 32, 64, 128 or 256
};

// For new token t at position p = *pos0 + t and query head h (kv head
// h / (n_heads / n_kv_heads)):
//   out[t][h] = softmax(q[t][h] . K[0..p] / sqrt(head_dim)) V[0..p]
// Flash-decoding: each token's positions are split into equal chunks (at
// least 32 positions), each chunk's partial softmax is computed by its own
// block, then the chunks are combined. The split count depends only on
// (n_tok, n_ctx, shape), so the launch can be captured once and replayed at
// any position. `partial` holds attention_partial_floats(n, ...) floats,
// enough for any batch of 1..n tokens.
void attention(const float* q, const uint16_t* k_cache, const uint16_t* v_cache, const int32_t* pos0,
               int64_t n_tok, int64_t n_ctx, const AttentionShape& shape, float* out, float* partial,
               cudaStream_t stream);
int64_t attention_partial_floats(int64_t n_tok, int64_t n_ctx, const AttentionShape& shape);

// ---- bandwidth.cu: the device's limit, for roofline figures ------------

// Reads a `bytes` buffer (16-byte loads, every SM) five times and returns
// the best rate in GB/s (1e9 bytes/s). Allocates and synchronizes: a
// measurement, not part of a forward pass.
double measure_read_bandwidth_gbps(uint64_t bytes);

// ---- errors --------------------------------------------------------------

// Throws ernie::Error(ERNIE_E_BACKEND) naming `what` and the CUDA error.
void check(cudaError_t e, const char* what);

}  // namespace ernie::cuda
