// The feed-forward half of a MoE layer: route each token, run every chosen
// expert once over all of its tokens (tokens grouped by expert), run the
// shared experts as always-selected experts, and add the weighted sum to x.
#pragma once

#include <cstdint>
#include <vector>

#include "model/weights.h"

namespace ernie {

class CpuSessionState;
class ThreadPool;

// Small per-layer vectors converted to f32 once at load.
struct LayerF32 {
  std::vector<float> attn_norm, ffn_norm, router, router_bias;
};

// s.h holds the normed hidden states of T tokens; adds the layer's output to s.x.
void moe_ffn(const LayerWeights& L, const LayerF32& Lf, const ModelConfig& c, CpuSessionState& s, int64_t T,
             ThreadPool& pool, float* scratch);

}  // namespace ernie
