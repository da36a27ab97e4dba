// Chooses the next token from the model's logits. The stages run in a fixed
// order (docs/sampling.md): logit bias → repetition / presence / frequency
// penalties over the recent window → [constraint mask] → greedy argmax, or
// temperature → top-k → top-p → min-p → a draw from the seeded generator.
// Ids at or beyond the tokenizer's vocabulary (padding rows) are never chosen.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sampling/rng.h"
#include "sampling/sampling_params.h"

namespace ernie {

struct TokenLogprob {
  int32_t token;
  float logprob;
};

// Log-probabilities under the model's own distribution: log-softmax of the
// raw logits over the valid vocabulary, before any sampling stage.
struct TokenLogprobs {
  float logprob = 0;              // of the chosen token
  std::vector<TokenLogprob> top;  // the best alternatives, most likely first
};

class Sampler {
 public:
  // n_vocab: logits per row; n_valid: ids below it may be sampled.
  Sampler(const SamplingParams& params, int32_t n_vocab, int32_t n_valid);

  // `history`: the context so far (penalties look at its last tokens).
  // With logprobs, fills the chosen token's and the n_logprobs best.
  int32_t sample(const float* logits, const std::vector<int32_t>& history, int n_logprobs = 0,
                 TokenLogprobs* logprobs = nullptr);

  // A constraint (e.g. a JSON-schema grammar) that sets the logits of
  // disallowed tokens to -inf; applied after penalties. Empty: none.
  void set_constraint(std::function<void(float* logits, int32_t n_valid)> constraint) {
    constraint_ = std::move(constraint);
  }

  Rng& rng() { return rng_; }
  const SamplingParams& params() const { return params_; }

 private:
  void apply_penalties(const std::vector<int32_t>& history);
  int32_t draw();
  void fill_logprobs(const float* logits, int32_t chosen, int n, TokenLogprobs* out);

  SamplingParams params_;
  int32_t n_vocab_, n_valid_;
  Rng rng_;
  std::function<void(float*, int32_t)> constraint_;
  std::vector<float> work_;                   // adjusted logits
  std::vector<int32_t> candidates_;           // ids still in play
  std::vector<double> probs_;
  std::vector<int32_t> window_;               // scratch for penalty counting
};

// Index of the largest value (the lowest index among equals), ignoring NaN.
int32_t argmax(const float* values, int32_t n);

}  // namespace ernie
