// The MoE router of ERNIE 4.5 (ERNIE45.md §3):
//   p   = softmax(router_logits)                 (f32)
//   sel = top_k(p + e_score_correction_bias)     the bias only CHOOSES experts
//   w   = p[sel] / max(sum(p[sel]), moe_norm_min) weights from the unbiased p
#pragma once

#include <cstdint>

namespace ernie {

struct ExpertChoice {
  int32_t expert;
  float weight;
};

// Chooses k of n_experts for one token. `probs` is scratch of n_experts.
// Ties in the biased score go to the lower expert index.
void route_token(const float* router_logits, const float* correction_bias, int64_t n_experts, int64_t k,
                 double norm_min, float* probs, ExpertChoice* out);

}  // namespace ernie
