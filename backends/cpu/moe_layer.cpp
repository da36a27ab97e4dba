#include "backends/cpu/moe_layer.h"

#include <algorithm>

#include "backends/cpu/cpu_state.h"
#include "backends/cpu/moe_router.h"
#include "backends/cpu/ops/matmul.h"
#include "util/thread_pool.h"

namespace ernie {
namespace {

// Counting sort of the (token, rank) choices by expert: expert e's inputs are
// expert_token[offset[e] .. offset[e+1]), in token order, and expert_slot
// says which (token * k + rank) row of moe_out each output belongs to.
void group_by_expert(CpuSessionState& s, int64_t T, int64_t K, int64_t E) {
  auto& off = s.expert_offset;
  std::fill(off.begin(), off.end(), 0);
  for (int64_t i = 0; i < T * K; ++i) ++off[static_cast<size_t>(s.choices[static_cast<size_t>(i)].expert + 1)];
  for (int64_t e = 0; e < E; ++e) off[static_cast<size_t>(e + 1)] += off[static_cast<size_t>(e)];
  std::copy(off.begin(), off.end() - 1, s.expert_fill.begin());
  for (int64_t i = 0; i < T * K; ++i) {
    const auto e = static_cast<size_t>(s.choices[static_cast<size_t>(i)].expert);
    const auto at = static_cast<size_t>(s.expert_fill[e]++);
    s.expert_token[at] = static_cast<int32_t>(i / K);
    s.expert_slot[at] = static_cast<int32_t>(i);
  }
}

}  // namespace

void moe_ffn(const LayerWeights& L, const LayerF32& Lf, const ModelConfig& c, CpuSessionState& s, int64_t T,
             ThreadPool& pool, float* scratch) {
  const int64_t H = c.hidden_size, E = c.moe_num_experts, K = c.moe_k;
  const int64_t Ie = L.gate_exps.rows;
  const bool shared = !L.gate_shexp.empty();
  const int64_t Is = shared ? L.gate_shexp.rows : 0;
  const int64_t I = std::max(Ie, Is);  // row stride of s.inter

  // Router: f32 logits, then each token's top-k.
  const TensorView router{DType::F32, 1, E, H, static_cast<uint64_t>(H) * 4,
                          reinterpret_cast<const uint8_t*>(Lf.router.data())};
  const MatJob route{&router, 0, nullptr, {s.h.data(), H, nullptr, nullptr, T}, s.router_logits.data(), E};
  run_matmuls(&route, 1, pool, scratch);
  for (int64_t t = 0; t < T; ++t) {
    route_token(&s.router_logits[static_cast<size_t>(t * E)], Lf.router_bias.data(), E, K, c.moe_norm_min,
                s.probs.data(), &s.choices[static_cast<size_t>(t * K)]);
  }
  group_by_expert(s, T, K, E);

  // Gate and up of every chosen expert and of the shared experts in one
  // parallel loop, all reading one quantization of h. Expert e writes its
  // rows of s.inter at expert_offset[e]; the shared experts after all of them.
  const bool any_q = dtype_is_quantized(L.gate_exps.type) || (shared && dtype_is_quantized(L.gate_shexp.type));
  if (any_q) s.a8.quantize(s.h.data(), T, H, H, pool);
  const quant::ActRowA8* a8 = any_q ? s.a8.rows() : nullptr;
  const int64_t routed_rows = T * K;
  int64_t n_jobs = 0;
  for (int64_t e = 0; e < E; ++e) {
    const int32_t o0 = s.expert_offset[static_cast<size_t>(e)], o1 = s.expert_offset[static_cast<size_t>(e + 1)];
    if (o0 == o1) continue;
    s.jobs[static_cast<size_t>(n_jobs++)] = {&L.gate_exps, e, &L.up_exps,
                                             {s.h.data(), H, a8, &s.expert_token[static_cast<size_t>(o0)], o1 - o0},
                                             &s.inter[static_cast<size_t>(o0 * I)], I};
  }
  if (shared) {
    s.jobs[static_cast<size_t>(n_jobs++)] = {&L.gate_shexp, 0, &L.up_shexp, {s.h.data(), H, a8, nullptr, T},
                                             &s.inter[static_cast<size_t>(routed_rows * I)], I};
  }
  run_matmuls(s.jobs.data(), n_jobs, pool, scratch);

  // Down projections of the same experts, reading one quantization of all
  // their SwiGLU rows; each output lands in its (token, rank) slot.
  const bool down_q = dtype_is_quantized(L.down_exps.type) || (shared && dtype_is_quantized(L.down_shexp.type));
  if (down_q) {
    s.a8.quantize(s.inter.data(), routed_rows, I, Ie, pool);
    if (shared) s.a8.append(&s.inter[static_cast<size_t>(routed_rows * I)], T, I, Is, pool);
  }
  const quant::ActRowA8* d8 = down_q ? s.a8.rows() : nullptr;
  n_jobs = 0;
  for (int64_t e = 0; e < E; ++e) {
    const int32_t o0 = s.expert_offset[static_cast<size_t>(e)], o1 = s.expert_offset[static_cast<size_t>(e + 1)];
    if (o0 == o1) continue;
    s.jobs[static_cast<size_t>(n_jobs++)] = {&L.down_exps, e, nullptr,
                                             {&s.inter[static_cast<size_t>(o0 * I)], I, d8 ? d8 + o0 : nullptr,
                                              nullptr, o1 - o0},
                                             s.moe_out.data(), H, &s.expert_slot[static_cast<size_t>(o0)]};
  }
  if (shared) {
    s.jobs[static_cast<size_t>(n_jobs++)] = {&L.down_shexp, 0, nullptr,
                                             {&s.inter[static_cast<size_t>(routed_rows * I)], I,
                                              d8 ? d8 + routed_rows : nullptr, nullptr, T},
                                             s.shared_out.data(), H};
  }
  run_matmuls(s.jobs.data(), n_jobs, pool, scratch);

  // x += sum over ranks of weight * expert output (+ shared), per token in
  // rank order: independent of how tokens were batched.
  for (int64_t t = 0; t < T; ++t) {
    float* x = &s.x[static_cast<size_t>(t * H)];
    for (int64_t i = 0; i < H; ++i) {
      float acc = 0;
      for (int64_t j = 0; j < K; ++j) {
        acc += s.choices[static_cast<size_t>(t * K + j)].weight * s.moe_out[static_cast<size_t>((t * K + j) * H + i)];
      }
      if (shared) acc += s.shared_out[static_cast<size_t>(t * H + i)];
      x[i] += acc;
    }
  }
}

}  // namespace ernie
