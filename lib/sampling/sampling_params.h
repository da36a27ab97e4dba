// The knobs of token sampling (docs/sampling.md) and their validation.
#pragma once

#include <cstdint>
#include <vector>

namespace ernie {

struct LogitBias {
  int32_t token;
  float bias;  // added to the logit; -inf bans the token
};

struct SamplingParams {
  float temperature = 0.8f;        // 0: greedy
  int32_t top_k = 40;              // 0: off
  float top_p = 0.95f;             // 1: off
  float min_p = 0.05f;             // 0: off
  float repetition_penalty = 1.0f; // 1: off (CTRL style: positive logits divided, negative multiplied)
  float presence_penalty = 0.0f;   // subtracted once from every token seen in the window
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the window
  int32_t penalty_window = 64;     // last N context tokens the penalties look at
  uint64_t seed = 0;
  std::vector<LogitBias> logit_bias;

  static SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0;
    return p;
  }
};

// Throws ERNIE_E_INVALID_ARGUMENT naming the bad field.
void validate(const SamplingParams& params, int64_t n_vocab);

}  // namespace ernie
