// Elementwise kernels and small per-row reductions of the ERNIE 4.5 block.
// Each follows its CPU reference (backends/cpu/ops/norm_rope.cpp,
// moe_router.cpp, moe_layer.cpp) operation by operation; products that the
// CPU rounds separately use __fmul_rn/__fadd_rn so nvcc cannot fuse them
// into an FMA and change the rounding.
#include <cuda_fp16.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "backends/cuda/kernels/kernels.h"
#include "util/error.h"

namespace ernie::cuda {
namespace {

constexpr int kThreads = 256;
// Rows go on grid.y (at most 65535); kernels loop when there are more.
constexpr int64_t kMaxGridY = 65535;

void require(bool ok, const char* what) {
  if (!ok) throw Error(ERNIE_E_BACKEND, std::string("CUDA kernels: ") + what);
}

// Blocks for n elements per row, one row per grid.y index.
dim3 row_grid(int64_t n, int64_t n_rows) {
  const int64_t bx = std::min<int64_t>((n + kThreads - 1) / kThreads, 1024);
  return dim3(static_cast<unsigned>(std::max<int64_t>(bx, 1)),
              static_cast<unsigned>(std::clamp<int64_t>(n_rows, 1, kMaxGridY)));
}

// ---- rmsnorm: one block per row, the sum of squares in double -----------
// x and out may be the same buffer (each element is read, then written, by
// one thread), so neither is __restrict__.

__global__ void rmsnorm_kernel(const float* x, const float* __restrict__ w, float eps,
                               float* out, int64_t n_rows, int64_t n) {
  __shared__ double warp_sums[kThreads / 32];
  __shared__ float row_scale;
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const float* xr = x + r * n;
    double ss = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) ss += static_cast<double>(xr[i]) * xr[i];
    for (int off = 16; off > 0; off >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, off);
    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = ss;
    __syncthreads();
    if (threadIdx.x == 0) {
      double total = 0;
      for (int i = 0; i < kThreads / 32; ++i) total += warp_sums[i];
      row_scale = static_cast<float>(1.0 / sqrt(total / static_cast<double>(n) + eps));
    }
    __syncthreads();
    const float scale = row_scale;
    float* o = out + r * n;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) o[i] = __fmul_rn(__fmul_rn(xr[i], scale), w[i]);
    __syncthreads();  // row_scale and warp_sums are reused by the next row
  }
}

// ---- RoPE: one block per token; cos/sin of each pair once, in shared ----

__global__ void rope_kernel(float* __restrict__ v, int64_t n_tok, int64_t n_heads, int64_t head_dim, double theta,
                            const int32_t* __restrict__ pos0) {
  extern __shared__ float cs[];  // [head_dim / 2] cos, then [head_dim / 2] sin
  const int64_t half = head_dim / 2;
  for (int64_t t = blockIdx.x; t < n_tok; t += gridDim.x) {
    const double pos = static_cast<double>(*pos0 + t);
    for (int64_t i = threadIdx.x; i < half; i += blockDim.x) {
      const double inv_freq = pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
      const double angle = pos * inv_freq;
      cs[i] = static_cast<float>(cos(angle));
      cs[half + i] = static_cast<float>(sin(angle));
    }
    __syncthreads();
    float* row = v + t * n_heads * head_dim;
    for (int64_t j = threadIdx.x; j < n_heads * half; j += blockDim.x) {
      const int64_t h = j / half, i = j - h * half;
      float* p = row + h * head_dim + 2 * i;
      const float a = p[0], b = p[1], c = cs[i], s = cs[half + i];
      p[0] = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s));
      p[1] = __fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s));
    }
    __syncthreads();
  }
}

// ---- elementwise ----------------------------------------------------------

__global__ void silu_mul_kernel(float* __restrict__ g, int64_t ldg, const float* __restrict__ u, int64_t ldu,
                                int64_t n_rows, int64_t n) {
  for (int64_t r = blockIdx.y; r < n_rows; r += gridDim.y) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const float x = g[r * ldg + i];
      // exp in double rounded once: the CPU's expf, correctly rounded in practice.
      const auto e = static_cast<float>(exp(-static_cast<double>(x)));
      g[r * ldg + i] = __fmul_rn(x / (1.0f + e), u[r * ldu + i]);
    }
  }
}

__global__ void store_kv_kernel(const float* __restrict__ k, const float* __restrict__ v, uint16_t* __restrict__ kc,
                                uint16_t* __restrict__ vc, int64_t n_tok, int64_t kv_dim,
                                const int32_t* __restrict__ pos0) {
  const int64_t base = static_cast<int64_t>(*pos0) * kv_dim;
  for (int64_t t = blockIdx.y; t < n_tok; t += gridDim.y) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < kv_dim;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const int64_t src = t * kv_dim + i, dst = base + src;
      kc[dst] = __half_as_ushort(__float2half_rn(k[src]));
      vc[dst] = __half_as_ushort(__float2half_rn(v[src]));
    }
  }
}

__global__ void moe_combine_kernel(float* __restrict__ x, const float* __restrict__ moe_out,
                                   const float* __restrict__ weight, const float* __restrict__ shared, int64_t n_tok,
                                   int64_t k, int64_t n) {
  for (int64_t t = blockIdx.y; t < n_tok; t += gridDim.y) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      float acc = 0;
      for (int64_t j = 0; j < k; ++j) {
        acc = __fadd_rn(acc, __fmul_rn(weight[t * k + j], moe_out[(t * k + j) * n + i]));
      }
      if (shared) acc = __fadd_rn(acc, shared[t * n + i]);
      x[t * n + i] = __fadd_rn(x[t * n + i], acc);
    }
  }
}

__global__ void add_kernel(float* __restrict__ y, const float* __restrict__ x, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] += x[i];
  }
}

__global__ void gather_rows_kernel(const float* __restrict__ src, int64_t ld, const int32_t* __restrict__ rows,
                                   int64_t n, int64_t cols, float* __restrict__ dst) {
  for (int64_t r = blockIdx.y; r < n; r += gridDim.y) {
    const float* s = src + static_cast<int64_t>(rows[r]) * ld;
    for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < cols;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      dst[r * cols + c] = s[c];
    }
  }
}

__global__ void scatter_rows_kernel(const float* __restrict__ src, int64_t cols, const int32_t* __restrict__ rows,
                                    int64_t n, float* __restrict__ dst, int64_t ld) {
  for (int64_t r = blockIdx.y; r < n; r += gridDim.y) {
    float* d = dst + static_cast<int64_t>(rows[r]) * ld;
    for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < cols;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      d[c] = src[r * cols + c];
    }
  }
}

// ---- router: one warp per token ------------------------------------------

constexpr int kMaxExperts = 256;
constexpr int kMaxTopK = 32;
constexpr int kRouterWarps = 4;
constexpr int kExpertsPerLane = kMaxExperts / 32;

// The better of two candidates: higher score, ties to the lower expert id.
__device__ inline bool better(float s, int e, float best_s, int best_e) {
  return s > best_s || (s == best_s && e < best_e);
}

__global__ void route_topk_kernel(const float* __restrict__ logits, const float* __restrict__ bias, int64_t n_tok,
                                  int n_experts, int k, double norm_min, int32_t* __restrict__ expert,
                                  float* __restrict__ weight) {
  __shared__ float exps[kRouterWarps][kMaxExperts];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * kRouterWarps + warp;
  if (t >= n_tok) return;  // whole warps leave together
  const float* lg = logits + t * n_experts;

  float mx = -INFINITY;
  for (int e = lane; e < n_experts; e += 32) mx = fmaxf(mx, lg[e]);
  for (int off = 16; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
  // exp in double rounded once to f32: the CPU's expf, correctly rounded in practice.
  for (int e = lane; e < n_experts; e += 32) exps[warp][e] = static_cast<float>(exp(static_cast<double>(lg[e] - mx)));
  __syncwarp();
  // The CPU's double sum in ascending expert order, so the probabilities match bit for bit.
  double sum = 0;
  if (lane == 0) {
    for (int e = 0; e < n_experts; ++e) sum += exps[warp][e];
  }
  sum = __shfl_sync(0xffffffffu, sum, 0);

  // Lane l holds experts l, l + 32, ... (ascending within the lane).
  float prob[kExpertsPerLane], score[kExpertsPerLane];
  unsigned taken = 0;  // bit j: expert lane + 32 j already chosen (or absent)
#pragma unroll
  for (int j = 0; j < kExpertsPerLane; ++j) {
    const int e = lane + 32 * j;
    if (e < n_experts) {
      prob[j] = static_cast<float>(static_cast<double>(exps[warp][e]) / sum);
      score[j] = prob[j] + (bias ? bias[e] : 0.0f);
    } else {
      prob[j] = 0;
      score[j] = -INFINITY;
      taken |= 1u << j;
    }
  }

  double chosen_sum = 0;
  int my_expert = 0;  // lane j < k keeps rank j's choice
  float my_prob = 0;
  for (int r = 0; r < k; ++r) {
    float best_s = -INFINITY;
    int best_e = INT_MAX;
    float best_p = 0;
#pragma unroll
    for (int j = 0; j < kExpertsPerLane; ++j) {
      const int e = lane + 32 * j;
      if (!(taken >> j & 1u) && better(score[j], e, best_s, best_e)) {
        best_s = score[j];
        best_e = e;
        best_p = prob[j];
      }
    }
    for (int off = 16; off > 0; off >>= 1) {
      const float os = __shfl_xor_sync(0xffffffffu, best_s, off);
      const int oe = __shfl_xor_sync(0xffffffffu, best_e, off);
      const float op = __shfl_xor_sync(0xffffffffu, best_p, off);
      if (better(os, oe, best_s, best_e)) {
        best_s = os;
        best_e = oe;
        best_p = op;
      }
    }
    // Every lane now holds the same winner.
    if ((best_e & 31) == lane) taken |= 1u << (best_e >> 5);
    chosen_sum += best_p;
    if (lane == r) {
      my_expert = best_e;
      my_prob = best_p;
    }
  }
  const double denom = chosen_sum > norm_min ? chosen_sum : norm_min;
  if (lane < k) {
    expert[t * k + lane] = my_expert;
    weight[t * k + lane] = static_cast<float>(static_cast<double>(my_prob) / denom);
  }
}

}  // namespace

void rmsnorm(const float* x, const float* w, float eps, float* out, int64_t n_rows, int64_t n, cudaStream_t stream) {
  if (n_rows <= 0) return;
  require(n > 0, "rmsnorm: empty rows");
  const auto blocks = static_cast<unsigned>(std::min<int64_t>(n_rows, INT_MAX));
  rmsnorm_kernel<<<blocks, kThreads, 0, stream>>>(x, w, eps, out, n_rows, n);
  check(cudaGetLastError(), "rmsnorm");
}

void rope_interleaved(float* v, int64_t n_tok, int64_t n_heads, int64_t head_dim, double theta,
                      const int32_t* pos0, cudaStream_t stream) {
  if (n_tok <= 0 || n_heads <= 0) return;
  require(head_dim > 0 && head_dim % 2 == 0 && head_dim <= 4096, "rope_interleaved: head_dim must be even, <= 4096");
  const auto blocks = static_cast<unsigned>(std::min<int64_t>(n_tok, INT_MAX));
  const size_t smem = static_cast<size_t>(head_dim) * sizeof(float);
  rope_kernel<<<blocks, kThreads, smem, stream>>>(v, n_tok, n_heads, head_dim, theta, pos0);
  check(cudaGetLastError(), "rope_interleaved");
}

void silu_mul(float* g, int64_t ldg, const float* u, int64_t ldu, int64_t n_rows, int64_t n, cudaStream_t stream) {
  if (n_rows <= 0 || n <= 0) return;
  silu_mul_kernel<<<row_grid(n, n_rows), kThreads, 0, stream>>>(g, ldg, u, ldu, n_rows, n);
  check(cudaGetLastError(), "silu_mul");
}

void store_kv_f16(const float* k, const float* v, uint16_t* k_cache, uint16_t* v_cache, int64_t n_tok,
                  int64_t kv_dim, const int32_t* pos0, cudaStream_t stream) {
  if (n_tok <= 0 || kv_dim <= 0) return;
  store_kv_kernel<<<row_grid(kv_dim, n_tok), kThreads, 0, stream>>>(k, v, k_cache, v_cache, n_tok, kv_dim, pos0);
  check(cudaGetLastError(), "store_kv_f16");
}

void route_topk(const float* logits, const float* bias, int64_t n_tok, int64_t n_experts, int64_t k,
                double norm_min, int32_t* expert, float* weight, cudaStream_t stream) {
  if (n_tok <= 0) return;
  require(n_experts >= 1 && n_experts <= kMaxExperts, "route_topk: n_experts must be 1..256");
  require(k >= 1 && k <= kMaxTopK && k <= n_experts, "route_topk: k must be 1..min(32, n_experts)");
  const auto blocks = static_cast<unsigned>((n_tok + kRouterWarps - 1) / kRouterWarps);
  route_topk_kernel<<<blocks, kRouterWarps * 32, 0, stream>>>(logits, bias, n_tok, static_cast<int>(n_experts),
                                                              static_cast<int>(k), norm_min, expert, weight);
  check(cudaGetLastError(), "route_topk");
}

void moe_combine(float* x, const float* moe_out, const float* weight, const float* shared, int64_t n_tok,
                 int64_t k, int64_t n, cudaStream_t stream) {
  if (n_tok <= 0 || n <= 0) return;
  moe_combine_kernel<<<row_grid(n, n_tok), kThreads, 0, stream>>>(x, moe_out, weight, shared, n_tok, k, n);
  check(cudaGetLastError(), "moe_combine");
}

void add_inplace(float* y, const float* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  const auto blocks = static_cast<unsigned>(std::min<int64_t>((n + kThreads - 1) / kThreads, 4096));
  add_kernel<<<blocks, kThreads, 0, stream>>>(y, x, n);
  check(cudaGetLastError(), "add_inplace");
}

void gather_act_rows(const float* src, int64_t ld, const int32_t* rows, int64_t n, int64_t cols, float* dst,
                     cudaStream_t stream) {
  if (n <= 0 || cols <= 0) return;
  gather_rows_kernel<<<row_grid(cols, n), kThreads, 0, stream>>>(src, ld, rows, n, cols, dst);
  check(cudaGetLastError(), "gather_act_rows");
}

void scatter_act_rows(const float* src, int64_t cols, const int32_t* rows, int64_t n, float* dst, int64_t ld,
                      cudaStream_t stream) {
  if (n <= 0 || cols <= 0) return;
  scatter_rows_kernel<<<row_grid(cols, n), kThreads, 0, stream>>>(src, cols, rows, n, dst, ld);
  check(cudaGetLastError(), "scatter_act_rows");
}

}  // namespace ernie::cuda
