#include "backends/cpu/moe_router.h"

#include <cmath>

namespace ernie {

void route_token(const float* logits, const float* bias, int64_t n, int64_t k, double norm_min, float* probs,
                 ExpertChoice* out) {
  float mx = logits[0];
  for (int64_t e = 1; e < n; ++e) mx = logits[e] > mx ? logits[e] : mx;
  double sum = 0;
  for (int64_t e = 0; e < n; ++e) {
    probs[e] = std::exp(logits[e] - mx);
    sum += probs[e];
  }
  for (int64_t e = 0; e < n; ++e) probs[e] = static_cast<float>(probs[e] / sum);

  // Selection by partial selection sort over the biased scores: k is small.
  double chosen_sum = 0;
  for (int64_t j = 0; j < k; ++j) {
    int64_t best = -1;
    float best_score = 0;
    for (int64_t e = 0; e < n; ++e) {
      bool taken = false;
      for (int64_t i = 0; i < j; ++i) taken |= out[i].expert == e;
      if (taken) continue;
      const float score = probs[e] + (bias ? bias[e] : 0.0f);
      if (best < 0 || score > best_score) {
        best = e;
        best_score = score;
      }
    }
    out[j].expert = static_cast<int32_t>(best);
    out[j].weight = probs[best];
    chosen_sum += probs[best];
  }
  const double denom = chosen_sum > norm_min ? chosen_sum : norm_min;
  for (int64_t j = 0; j < k; ++j) out[j].weight = static_cast<float>(out[j].weight / denom);
}

}  // namespace ernie
