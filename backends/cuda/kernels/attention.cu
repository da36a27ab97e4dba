// Causal GQA attention over the f16 KV cache, flash-decoding style.
//
// Grid: x = split s (n_splits, fixed per launch shape), y = kv head and
// slice of its query heads, z = token. A token whose context is `len`
// positions cuts it into chunks of max(ceil(len / n_splits), kMinChunk)
// positions; split s takes chunk s, and a split whose chunk starts at or past
// len exits at once. The chunk length comes from the position read on the
// device, so one captured launch serves every position and all splits share
// the work evenly whatever the position.
//
// A block reads each K/V row of its chunk once for all the query heads that
// share the kv head (up to kGroupTile of them). Inside a block, hd/8 lanes
// own one row (16-byte loads, 8 f16 each); a warp holds 32/(hd/8) such row
// groups, each keeping an online softmax (max m, sum l, unnormalised V sum)
// per head. Row groups merge by warp shuffles, warps through shared memory.
// With one split the block writes the output; otherwise it writes its
// (acc, m, l) to `partial` and combine_splits merges the active splits.
// Scores are kept in log2 units (q is scaled by log2(e) / sqrt(hd)) so the
// exponentials are exp2f.
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "backends/cuda/kernels/kernels.h"
#include "util/error.h"

namespace ernie::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kUnroll = 4;      // rows in flight per row group
constexpr int kMinChunk = 32;   // shorter chunks cost more in partial traffic than they save
constexpr int kMaxGroupTile = 8;

void require(bool ok, const std::string& what) {
  if (!ok) throw Error(ERNIE_E_BACKEND, "CUDA attention: " + what);
}

struct Params {
  const float* q;
  const uint16_t* k;
  const uint16_t* v;
  const int32_t* pos0;
  float* out;
  float* part_acc;  // [n_tok][n_heads][n_splits][head_dim]
  float* part_ml;   // [n_tok][n_heads][n_splits][2]: m, l
  int n_ctx, n_heads, n_kv_heads, group, slices, n_splits;
  float q_scale;  // log2(e) / sqrt(head_dim)
};

// Positions of token t's context (clamped to the cache) and its chunk length.
__device__ inline int context_len(const Params& p, int t) { return min(*p.pos0 + t + 1, p.n_ctx); }
__device__ inline int chunk_len(int len, int n_splits) { return max((len + n_splits - 1) / n_splits, kMinChunk); }

__device__ inline void half8_to_float(const uint4& r, float f[8]) {
  const unsigned w[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    __half2 h;
    static_assert(sizeof(h) == sizeof(unsigned), "half2 is 32 bits");
    memcpy(&h, &w[i], sizeof(h));
    const float2 x = __half22float2(h);
    f[2 * i] = x.x;
    f[2 * i + 1] = x.y;
  }
}

// Folds softmax state (om, ol, oa) into (m, l, a). An empty state has m = -inf.
__device__ inline void merge_state(float& m, float& l, float a[8], float om, float ol, const float oa[8]) {
  const float mn = fmaxf(m, om);
  if (mn == -INFINITY) return;
  const float fa = exp2f(m - mn), fb = exp2f(om - mn);  // exp2f(-inf) = 0
  l = l * fa + ol * fb;
#pragma unroll
  for (int i = 0; i < 8; ++i) a[i] = a[i] * fa + oa[i] * fb;
  m = mn;
}

template <int HD, int G>
__global__ void __launch_bounds__(kThreads) attend_split(Params p) {
  constexpr int L = HD / 8;          // lanes per row
  constexpr int RPW = 32 / L;        // row groups per warp
  constexpr int NRG = kWarps * RPW;  // row groups per block
  constexpr int STEP = NRG * kUnroll;
  __shared__ float s_acc[kWarps][G][HD];
  __shared__ float s_m[kWarps][G], s_l[kWarps][G];

  const int s = blockIdx.x;
  const int kvh = blockIdx.y / p.slices, slice = blockIdx.y % p.slices;
  const int t = blockIdx.z;
  const int len = context_len(p, t);
  const int chunk = chunk_len(len, p.n_splits);
  const int start = s * chunk;
  if (start >= len) return;  // the whole block: no barrier is skipped
  const int end = min(start + chunk, len);
  const int h0 = kvh * p.group + slice * G;
  const int ng = min(G, p.group - slice * G);

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int sub = lane / L, dl = lane % L;
  const int rg = warp * RPW + sub;

  float q[G][8];
  const float* qt = p.q + (static_cast<int64_t>(t) * p.n_heads + h0) * HD + dl * 8;
#pragma unroll
  for (int g = 0; g < G; ++g) {
    if (g < ng) {
      const float4 a = *reinterpret_cast<const float4*>(qt + g * HD);
      const float4 b = *reinterpret_cast<const float4*>(qt + g * HD + 4);
      const float x[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 8; ++i) q[g][i] = x[i] * p.q_scale;
    } else {
#pragma unroll
      for (int i = 0; i < 8; ++i) q[g][i] = 0;
    }
  }

  float m[G], l[G], acc[G][8];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY;
    l[g] = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) acc[g][i] = 0;
  }

  const int64_t kv_dim = static_cast<int64_t>(p.n_kv_heads) * HD;
  const uint16_t* kbase = p.k + static_cast<int64_t>(kvh) * HD + dl * 8;
  const uint16_t* vbase = p.v + static_cast<int64_t>(kvh) * HD + dl * 8;

  // Iteration `it` covers positions it .. it + STEP - 1; row group rg takes
  // it + u * NRG + rg. The loop test is the warp's first row, so whole warps
  // iterate together (the shuffles below need every lane).
  for (int it = start; it + warp * RPW < end; it += STEP) {
    uint4 kr[kUnroll], vr[kUnroll];
    bool valid[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int pos = it + u * NRG + rg;
      valid[u] = pos < end;
      const int64_t row = valid[u] ? pos : start;  // a row that exists; its weight will be 0
      kr[u] = __ldg(reinterpret_cast<const uint4*>(kbase + row * kv_dim));
      vr[u] = __ldg(reinterpret_cast<const uint4*>(vbase + row * kv_dim));
    }
    float sc[G][kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      float kf[8];
      half8_to_float(kr[u], kf);
#pragma unroll
      for (int g = 0; g < G; ++g) {
        if (g < ng) {
          float d = 0;
#pragma unroll
          for (int i = 0; i < 8; ++i) d = fmaf(q[g][i], kf[i], d);
#pragma unroll
          for (int off = 1; off < L; off <<= 1) d += __shfl_xor_sync(0xffffffffu, d, off);
          sc[g][u] = valid[u] ? d : -INFINITY;
        } else {
          sc[g][u] = -INFINITY;
        }
      }
    }
    float vf[kUnroll][8];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) half8_to_float(vr[u], vf[u]);
#pragma unroll
    for (int g = 0; g < G; ++g) {
      if (g >= ng) continue;
      float mx = sc[g][0];
#pragma unroll
      for (int u = 1; u < kUnroll; ++u) mx = fmaxf(mx, sc[g][u]);
      const float mn = fmaxf(m[g], mx);
      if (mn == -INFINITY) continue;  // no valid row yet in this row group
      const float corr = exp2f(m[g] - mn);
      l[g] *= corr;
#pragma unroll
      for (int i = 0; i < 8; ++i) acc[g][i] *= corr;
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const float w = exp2f(sc[g][u] - mn);
        l[g] += w;
#pragma unroll
        for (int i = 0; i < 8; ++i) acc[g][i] = fmaf(w, vf[u][i], acc[g][i]);
      }
      m[g] = mn;
    }
  }

  // Row groups of a warp (lanes differing in the bits >= L) merge.
#pragma unroll
  for (int off = L; off < 32; off <<= 1) {
#pragma unroll
    for (int g = 0; g < G; ++g) {
      if (g >= ng) continue;
      const float om = __shfl_xor_sync(0xffffffffu, m[g], off);
      const float ol = __shfl_xor_sync(0xffffffffu, l[g], off);
      float oa[8];
#pragma unroll
      for (int i = 0; i < 8; ++i) oa[i] = __shfl_xor_sync(0xffffffffu, acc[g][i], off);
      merge_state(m[g], l[g], acc[g], om, ol, oa);
    }
  }
  if (sub == 0) {
#pragma unroll
    for (int g = 0; g < G; ++g) {
      if (g >= ng) continue;
#pragma unroll
      for (int i = 0; i < 8; ++i) s_acc[warp][g][dl * 8 + i] = acc[g][i];
      if (dl == 0) {
        s_m[warp][g] = m[g];
        s_l[warp][g] = l[g];
      }
    }
  }
  __syncthreads();

  // Warps merge; one value of (head, dim) per thread.
  for (int idx = threadIdx.x; idx < ng * HD; idx += kThreads) {
    const int g = idx / HD, d = idx % HD;
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) mx = fmaxf(mx, s_m[w][g]);
    float sum = 0, a = 0;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      if (s_m[w][g] == -INFINITY) continue;  // a warp that had no row
      const float f = exp2f(s_m[w][g] - mx);
      sum += s_l[w][g] * f;
      a += s_acc[w][g][d] * f;
    }
    const int64_t th = static_cast<int64_t>(t) * p.n_heads + h0 + g;
    if (p.n_splits == 1) {
      p.out[th * HD + d] = a / sum;
    } else {
      const int64_t slot = th * p.n_splits + s;
      p.part_acc[slot * HD + d] = a;
      if (d == 0) {
        p.part_ml[slot * 2] = mx;
        p.part_ml[slot * 2 + 1] = sum;
      }
    }
  }
}

// One block per (head, token), one thread per dim: merges the splits whose
// chunk holds positions (the others wrote nothing this time).
__global__ void combine_splits(Params p, int head_dim) {
  const int h = blockIdx.x, t = blockIdx.y, d = threadIdx.x;
  const int len = context_len(p, t);
  const int n_active = (len + chunk_len(len, p.n_splits) - 1) / chunk_len(len, p.n_splits);
  const int64_t th = static_cast<int64_t>(t) * p.n_heads + h;
  const int64_t slot0 = th * p.n_splits;
  float mx = -INFINITY;
  for (int s = 0; s < n_active; ++s) mx = fmaxf(mx, p.part_ml[(slot0 + s) * 2]);
  float sum = 0, a = 0;
  for (int s = 0; s < n_active; ++s) {
    const float f = exp2f(p.part_ml[(slot0 + s) * 2] - mx);
    sum += p.part_ml[(slot0 + s) * 2 + 1] * f;
    a += p.part_acc[(slot0 + s) * head_dim + d] * f;
  }
  p.out[th * head_dim + d] = a / sum;
}

// ---- launch plan ------------------------------------------------------------

using Kernel = void (*)(Params);

// Query heads per block: the smallest compiled tile that holds the group.
int group_tile(int64_t group) {
  for (int g : {1, 2, 4, 5, 8}) {
    if (group <= g) return g;
  }
  return kMaxGroupTile;
}

template <int HD>
Kernel kernel_for_tile(int g) {
  switch (g) {
    case 1: return attend_split<HD, 1>;
    case 2: return attend_split<HD, 2>;
    case 4: return attend_split<HD, 4>;
    case 5: return attend_split<HD, 5>;
    default: return attend_split<HD, 8>;
  }
}

Kernel kernel_for(int64_t head_dim, int g) {
  switch (head_dim) {
    case 16: return kernel_for_tile<16>(g);  // small test models (tests/data)
    case 32: return kernel_for_tile<32>(g);
    case 64: return kernel_for_tile<64>(g);
    case 128: return kernel_for_tile<128>(g);
    default: return kernel_for_tile<256>(g);
  }
}

void check_shape(const AttentionShape& s) {
  require(s.head_dim == 16 || s.head_dim == 32 || s.head_dim == 64 || s.head_dim == 128 || s.head_dim == 256,
          "head_dim must be 16, 32, 64, 128 or 256");
  require(s.n_kv_heads > 0 && s.n_heads > 0 && s.n_heads % s.n_kv_heads == 0,
          "n_heads must be a positive multiple of n_kv_heads");
}

// Blocks of the plan's kernel the device runs at once: the split count aims
// for one full wave. Cached per (device, head_dim, tile): the queries are
// host calls that would otherwise run for every layer (and the first call,
// from attention_partial_floats, comes before any graph capture).
int resident_blocks(Kernel k, int64_t head_dim, int tile) {
  static std::mutex mutex;
  static std::map<std::tuple<int, int64_t, int>, int> cache;
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice (attention)");
  const std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(device, head_dim, tile);
  const auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  int sms = 0, per_sm = 0;
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute (attention)");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, kThreads, 0), "occupancy (attention)");
  const int n = std::max(1, sms * std::max(1, per_sm));
  cache.emplace(key, n);
  return n;
}

struct Plan {
  Kernel kernel;
  int tile, slices;
};

Plan plan_for(const AttentionShape& s) {
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int tile = group_tile(group);
  return {kernel_for(s.head_dim, tile), tile, static_cast<int>((group + tile - 1) / tile)};
}

// Splits per token for a launch of n_tok tokens.
int64_t n_splits_for(int64_t n_tok, int64_t n_ctx, const AttentionShape& s, const Plan& plan) {
  const int64_t per_split = n_tok * s.n_kv_heads * plan.slices;
  const int64_t target = resident_blocks(plan.kernel, s.head_dim, plan.tile);
  const int64_t most = std::max<int64_t>(1, (n_ctx + kMinChunk - 1) / kMinChunk);
  return std::clamp<int64_t>((target + per_split - 1) / per_split, 1, most);
}

int64_t partial_floats_for(int64_t n_tok, int64_t n_splits, const AttentionShape& s) {
  return n_splits > 1 ? n_tok * s.n_heads * n_splits * (s.head_dim + 2) : 0;
}

}  // namespace

// Sized for the largest need of any batch of 1..n_tok tokens (fewer tokens
// take more splits each), so a buffer sized for the largest batch serves all.
int64_t attention_partial_floats(int64_t n_tok, int64_t n_ctx, const AttentionShape& shape) {
  check_shape(shape);
  const Plan plan = plan_for(shape);
  int64_t most = 0;
  for (int64_t n = 1; n <= n_tok; ++n) {
    const int64_t splits = n_splits_for(n, n_ctx, shape, plan);
    most = std::max(most, partial_floats_for(n, splits, shape));
    if (splits == 1) break;  // and so for every larger n
  }
  return most;
}

void attention(const float* q, const uint16_t* k_cache, const uint16_t* v_cache, const int32_t* pos0,
               int64_t n_tok, int64_t n_ctx, const AttentionShape& shape, float* out, float* partial,
               cudaStream_t stream) {
  if (n_tok <= 0) return;
  check_shape(shape);
  require(n_ctx > 0 && n_ctx <= INT32_MAX, "n_ctx out of range");
  require(n_tok <= 65535, "at most 65535 tokens per launch");
  auto aligned16 = [](const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; };
  require(aligned16(q) && aligned16(k_cache) && aligned16(v_cache), "q and the caches must be 16-byte aligned");
  const Plan plan = plan_for(shape);
  const int64_t n_splits = n_splits_for(n_tok, n_ctx, shape, plan);
  require(n_splits == 1 || partial != nullptr, "partial buffer missing");
  const int64_t slots = n_tok * shape.n_heads * n_splits;

  Params p{};
  p.q = q;
  p.k = k_cache;
  p.v = v_cache;
  p.pos0 = pos0;
  p.out = out;
  p.part_acc = partial;
  p.part_ml = partial ? partial + slots * shape.head_dim : nullptr;
  p.n_ctx = static_cast<int>(n_ctx);
  p.n_heads = static_cast<int>(shape.n_heads);
  p.n_kv_heads = static_cast<int>(shape.n_kv_heads);
  p.group = static_cast<int>(shape.n_heads / shape.n_kv_heads);
  p.slices = plan.slices;
  p.n_splits = static_cast<int>(n_splits);
  p.q_scale = static_cast<float>(1.4426950408889634 / std::sqrt(static_cast<double>(shape.head_dim)));

  const dim3 grid(static_cast<unsigned>(n_splits), static_cast<unsigned>(shape.n_kv_heads * plan.slices),
                  static_cast<unsigned>(n_tok));
  require(grid.y <= 65535, "too many kv heads");
  plan.kernel<<<grid, kThreads, 0, stream>>>(p);
  check(cudaGetLastError(), "attention");
  if (n_splits > 1) {
    combine_splits<<<dim3(static_cast<unsigned>(shape.n_heads), static_cast<unsigned>(n_tok)),
                     static_cast<unsigned>(shape.head_dim), 0, stream>>>(p, static_cast<int>(shape.head_dim));
    check(cudaGetLastError(), "attention (combine)");
  }
}

}  // namespace ernie::cuda
