// Matrix-vector products for decode and small batches (kernels.h). Decode is
// bound by reading the weights, so each weight byte is read once for all
// tokens: a warp owns kRowsPerWarp rows, walks them in 256-value chunks
// (decode_block.cuh says which 8 values each lane decodes), and keeps the
// lane's x values of a chunk in registers for every row it owns. Partial sums
// are f32, per lane in column order, then summed by a fixed butterfly of warp
// shuffles, so results are deterministic.
//
// One kernel serves all four entry points: blockIdx.y walks "assignments"
// (one for matvec / matvec_swiglu, whose tokens share the weight reads; one
// per routed (token, rank) pair for the experts, whose expert id and input
// row are read on the device so the launch can be captured in a graph).
#include <algorithm>
#include <string>

#include "backends/cuda/kernels/decode_block.cuh"
#include "backends/cuda/kernels/kernels.h"
#include "util/error.h"

namespace ernie::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kThreads = 32 * kWarpsPerBlock;
// Two rows per warp halve the x traffic through L1 per weight byte; more
// would leave too few warps for the 1536-row expert matrices.
constexpr int kRowsPerWarp = 2;
constexpr int kRowsPerBlock = kWarpsPerBlock * kRowsPerWarp;
constexpr int64_t kMaxGridY = 65535;

struct MatvecArgs {
  const uint8_t* w = nullptr;   // the matrix stack (gate for SwiGLU)
  const uint8_t* up = nullptr;  // SwiGLU: the up stack, same type and shape
  int64_t rows = 0, cols = 0, row_bytes = 0, mat_bytes = 0;
  int64_t mat = 0;                  // the matrix when expert is null
  const int32_t* expert = nullptr;  // per assignment (device), or null
  const int32_t* x_row = nullptr;   // per assignment (device), or null: row a
  const float* x = nullptr;
  int64_t ldx = 0;
  int n_tok = 1;  // tokens of one assignment: x rows xr + t, output rows a + t
  float* y = nullptr;
  int64_t ldy = 0;
  int64_t n_assign = 1;
  bool accumulate = false;
  bool vec_x = false;  // x and ldx allow float2/float4 loads of a run
};

// The lane's x values of one chunk for token t: xv[r * kRun + e] = x[col(r) + e],
// 0 past the row's end.
template <class C>
__device__ __forceinline__ void load_x(const float* x, int64_t cols, int64_t chunk, int lane, bool vec,
                                       float* xv) {
  const int64_t c0 = chunk * kChunkValues;
#pragma unroll
  for (int r = 0; r < C::kRuns; ++r) {
    const int64_t c = c0 + C::run_col(lane, r);
    float* v = xv + r * C::kRun;
    if (c >= cols) {
#pragma unroll
      for (int e = 0; e < C::kRun; ++e) v[e] = 0.0f;
    } else if (C::kRun == 4 && vec) {
      const float4 q = __ldg(reinterpret_cast<const float4*>(x + c));
      v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
    } else if (C::kRun == 2 && vec) {
      const float2 q = __ldg(reinterpret_cast<const float2*>(x + c));
      v[0] = q.x, v[1] = q.y;
    } else {
#pragma unroll
      for (int e = 0; e < C::kRun; ++e) v[e] = __ldg(x + c + e);
    }
  }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

__device__ __forceinline__ float silu(float g) { return g / (1.0f + expf(-g)); }

template <DType T, bool kAligned, int kTok, bool kSwiglu>
__global__ void __launch_bounds__(kThreads) matvec_kernel(MatvecArgs a) {
  using C = Codec<T>;
  constexpr int kMats = kSwiglu ? 2 : 1;
  const int lane = threadIdx.x & 31;
  const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5)) * kRowsPerWarp;
  if (row0 >= a.rows) return;  // the whole warp
  const int n_rows = static_cast<int>(min(static_cast<int64_t>(kRowsPerWarp), a.rows - row0));
  const int64_t chunks = row_chunks(a.cols);

  for (int64_t asg = blockIdx.y; asg < a.n_assign; asg += gridDim.y) {
    const int64_t mat = a.expert ? static_cast<int64_t>(a.expert[asg]) : a.mat;
    const int64_t xr = a.x_row ? static_cast<int64_t>(a.x_row[asg]) : asg;
    const float* x = a.x + xr * a.ldx;
    const int64_t offset = mat * a.mat_bytes + row0 * a.row_bytes;
    const uint8_t* base[kMats];
    base[0] = a.w + offset;
    if (kSwiglu) base[kMats - 1] = a.up + offset;

    float acc[kMats][kRowsPerWarp][kTok];
#pragma unroll
    for (int m = 0; m < kMats; ++m)
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r)
#pragma unroll
        for (int t = 0; t < kTok; ++t) acc[m][r][t] = 0.0f;

#pragma unroll 2
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      float xv[kTok][kLaneValues];
#pragma unroll
      for (int t = 0; t < kTok; ++t) {
        if (t < a.n_tok) {
          load_x<C>(x + t * a.ldx, a.cols, chunk, lane, a.vec_x, xv[t]);
        } else {
#pragma unroll
          for (int i = 0; i < kLaneValues; ++i) xv[t][i] = 0.0f;
        }
      }
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        if (r >= n_rows) break;
#pragma unroll
        for (int m = 0; m < kMats; ++m) {
          float w[kLaneValues];
          C::template decode<kAligned>(base[m] + r * a.row_bytes, a.cols, chunk, lane, w);
#pragma unroll
          for (int t = 0; t < kTok; ++t)
#pragma unroll
            for (int i = 0; i < kLaneValues; ++i) acc[m][r][t] = fmaf(w[i], xv[t][i], acc[m][r][t]);
        }
      }
    }

#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      if (r >= n_rows) break;
#pragma unroll
      for (int t = 0; t < kTok; ++t) {
        if (t >= a.n_tok) break;
        const float v = warp_sum(acc[0][r][t]);
        const float u = kSwiglu ? warp_sum(acc[kMats - 1][r][t]) : 0.0f;
        if (lane == 0) {
          float* out = a.y + (asg + t) * a.ldy + row0 + r;
          if (kSwiglu) {
            *out = silu(v) * u;
          } else {
            *out = a.accumulate ? *out + v : v;
          }
        }
      }
    }
  }
}

void require(bool ok, const char* what, const std::string& why) {
  if (!ok) throw Error(ERNIE_E_BACKEND, std::string("CUDA kernels: ") + what + ": " + why);
}

bool x_vectorizable(const float* x, int64_t ldx) {
  return reinterpret_cast<uintptr_t>(x) % 16 == 0 && ldx % 4 == 0;
}

// Enqueues the kernel for `w` (and `up` when given) over a.n_assign assignments.
void launch(const DevMatrix& w, const DevMatrix* up, MatvecArgs a, cudaStream_t stream, const char* what) {
  check_matrix(w, what);
  require(a.n_tok >= 1 && a.n_tok <= kMaxMatvecTokens, what,
          "n_tok " + std::to_string(a.n_tok) + " is outside 1.." + std::to_string(kMaxMatvecTokens));
  if (up) {
    check_matrix(*up, what);
    require(up->type == w.type && up->rows == w.rows && up->cols == w.cols && up->n_mats == w.n_mats, what,
            "gate and up differ in type or shape");
  }
  if (a.expert == nullptr) require(a.mat >= 0 && a.mat < w.n_mats, what, "matrix index out of range");
  if (w.rows == 0 || a.n_assign == 0) return;
  a.w = w.data;
  a.up = up ? up->data : nullptr;
  a.rows = w.rows;
  a.cols = w.cols;
  a.row_bytes = static_cast<int64_t>(w.row_bytes);
  a.mat_bytes = w.rows * a.row_bytes;
  a.vec_x = x_vectorizable(a.x, a.ldx);
  const bool aligned = rows_aligned(w) && (!up || rows_aligned(*up));
  const dim3 grid(static_cast<unsigned>((w.rows + kRowsPerBlock - 1) / kRowsPerBlock),
                  static_cast<unsigned>(std::min(a.n_assign, kMaxGridY)));
  const int tok = a.n_tok == 1 ? 1 : a.n_tok == 2 ? 2 : a.n_tok <= 4 ? 4 : 8;
  auto run = [&](auto type, auto align) {
    constexpr DType T = decltype(type)::value;
    constexpr bool A = decltype(align)::value;
    if (up) {
      switch (tok) {
        case 1: matvec_kernel<T, A, 1, true><<<grid, kThreads, 0, stream>>>(a); break;
        case 2: matvec_kernel<T, A, 2, true><<<grid, kThreads, 0, stream>>>(a); break;
        case 4: matvec_kernel<T, A, 4, true><<<grid, kThreads, 0, stream>>>(a); break;
        default: matvec_kernel<T, A, 8, true><<<grid, kThreads, 0, stream>>>(a); break;
      }
    } else {
      switch (tok) {
        case 1: matvec_kernel<T, A, 1, false><<<grid, kThreads, 0, stream>>>(a); break;
        case 2: matvec_kernel<T, A, 2, false><<<grid, kThreads, 0, stream>>>(a); break;
        case 4: matvec_kernel<T, A, 4, false><<<grid, kThreads, 0, stream>>>(a); break;
        default: matvec_kernel<T, A, 8, false><<<grid, kThreads, 0, stream>>>(a); break;
      }
    }
  };
  dispatch_type(w.type, aligned, run);
  check(cudaGetLastError(), what);
}

}  // namespace

void matvec(const DevMatrix& w, int64_t mat, const float* x, int64_t ldx, int n_tok, float* y, int64_t ldy,
            bool accumulate, cudaStream_t stream) {
  MatvecArgs a;
  a.mat = mat;
  a.x = x;
  a.ldx = ldx;
  a.n_tok = n_tok;
  a.y = y;
  a.ldy = ldy;
  a.accumulate = accumulate;
  launch(w, nullptr, a, stream, "matvec");
}

void matvec_swiglu(const DevMatrix& gate, const DevMatrix& up, int64_t mat, const float* x, int64_t ldx, int n_tok,
                   float* out, int64_t ldo, cudaStream_t stream) {
  MatvecArgs a;
  a.mat = mat;
  a.x = x;
  a.ldx = ldx;
  a.n_tok = n_tok;
  a.y = out;
  a.ldy = ldo;
  launch(gate, &up, a, stream, "matvec_swiglu");
}

void matvec_experts_swiglu(const DevMatrix& gate, const DevMatrix& up, const int32_t* expert, const float* x,
                           int64_t ldx, const int32_t* x_row, int n_assign, float* out, int64_t ldo,
                           cudaStream_t stream) {
  require(n_assign >= 0 && (n_assign == 0 || expert != nullptr), "matvec_experts_swiglu", "no expert ids");
  MatvecArgs a;
  a.expert = expert;
  a.x_row = x_row;
  a.x = x;
  a.ldx = ldx;
  a.y = out;
  a.ldy = ldo;
  a.n_assign = n_assign;
  launch(gate, &up, a, stream, "matvec_experts_swiglu");
}

void matvec_experts(const DevMatrix& w, const int32_t* expert, const float* x, int64_t ldx, int n_assign, float* y,
                    int64_t ldy, cudaStream_t stream) {
  require(n_assign >= 0 && (n_assign == 0 || expert != nullptr), "matvec_experts", "no expert ids");
  MatvecArgs a;
  a.expert = expert;
  a.x = x;
  a.ldx = ldx;
  a.y = y;
  a.ldy = ldy;
  a.n_assign = n_assign;
  launch(w, nullptr, a, stream, "matvec_experts");
}

}  // namespace ernie::cuda
