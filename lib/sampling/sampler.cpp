#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace ernie {

void validate(const SamplingParams& p, int64_t n_vocab) {
  ERNIE_CHECK(std::isfinite(p.temperature) && p.temperature >= 0, ERNIE_E_INVALID_ARGUMENT,
              "sampling: temperature must be finite and >= 0");
  ERNIE_CHECK(p.top_k >= 0, ERNIE_E_INVALID_ARGUMENT, "sampling: top_k must be >= 0");
  ERNIE_CHECK(p.top_p > 0 && p.top_p <= 1, ERNIE_E_INVALID_ARGUMENT, "sampling: top_p must be in (0, 1]");
  ERNIE_CHECK(p.min_p >= 0 && p.min_p <= 1, ERNIE_E_INVALID_ARGUMENT, "sampling: min_p must be in [0, 1]");
  ERNIE_CHECK(std::isfinite(p.repetition_penalty) && p.repetition_penalty > 0, ERNIE_E_INVALID_ARGUMENT,
              "sampling: repetition_penalty must be finite and > 0");
  ERNIE_CHECK(std::isfinite(p.presence_penalty) && std::isfinite(p.frequency_penalty), ERNIE_E_INVALID_ARGUMENT,
              "sampling: presence and frequency penalties must be finite");
  ERNIE_CHECK(p.penalty_window >= 0, ERNIE_E_INVALID_ARGUMENT, "sampling: penalty_window must be >= 0");
  for (const auto& b : p.logit_bias) {
    ERNIE_CHECK(b.token >= 0 && b.token < n_vocab, ERNIE_E_INVALID_ARGUMENT,
                "sampling: logit bias for token %d, outside the vocabulary", b.token);
    ERNIE_CHECK(!std::isnan(b.bias) && b.bias != INFINITY, ERNIE_E_INVALID_ARGUMENT,
                "sampling: logit bias for token %d must be a number or -inf", b.token);
  }
}

int32_t argmax(const float* v, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; ++i) {
    if (v[i] > v[best] || std::isnan(v[best])) best = i;
  }
  return best;
}

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab, int32_t n_valid)
    : params_(params), n_vocab_(n_vocab), n_valid_(std::min(n_valid, n_vocab)), rng_(params.seed) {
  validate(params_, n_vocab_);
  work_.resize(static_cast<size_t>(n_valid_));
}

void Sampler::apply_penalties(const std::vector<int32_t>& history) {
  const auto& p = params_;
  if (p.penalty_window == 0 ||
      (p.repetition_penalty == 1.0f && p.presence_penalty == 0.0f && p.frequency_penalty == 0.0f)) {
    return;
  }
  const size_t n = std::min(history.size(), static_cast<size_t>(p.penalty_window));
  window_.assign(history.end() - static_cast<std::ptrdiff_t>(n), history.end());
  std::sort(window_.begin(), window_.end());
  for (size_t i = 0; i < window_.size();) {
    size_t j = i;
    while (j < window_.size() && window_[j] == window_[i]) ++j;
    const int32_t t = window_[i];
    if (t >= 0 && t < n_valid_) {
      float& l = work_[static_cast<size_t>(t)];
      if (p.repetition_penalty != 1.0f) l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
      l -= p.presence_penalty + static_cast<float>(j - i) * p.frequency_penalty;
    }
    i = j;
  }
}

int32_t Sampler::draw() {
  const auto& p = params_;
  // Candidates in order of (logit desc, id asc): a total order, so results
  // do not depend on the sort algorithm.
  candidates_.clear();
  for (int32_t i = 0; i < n_valid_; ++i) {
    if (work_[static_cast<size_t>(i)] > -INFINITY) candidates_.push_back(i);
  }
  if (candidates_.empty()) return argmax(work_.data(), n_valid_);
  auto better = [&](int32_t a, int32_t b) {
    const float la = work_[static_cast<size_t>(a)], lb = work_[static_cast<size_t>(b)];
    return la > lb || (la == lb && a < b);
  };
  size_t keep = candidates_.size();
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < keep) {
    keep = static_cast<size_t>(p.top_k);
    std::nth_element(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep) - 1,
                     candidates_.end(), better);
    candidates_.resize(keep);
  }
  std::sort(candidates_.begin(), candidates_.end(), better);

  // Softmax at the temperature, in double.
  probs_.resize(candidates_.size());
  const double max_l = work_[static_cast<size_t>(candidates_[0])];
  double sum = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    probs_[i] = std::exp((work_[static_cast<size_t>(candidates_[i])] - max_l) / p.temperature);
    sum += probs_[i];
  }
  for (auto& q : probs_) q /= sum;
  // top-p: the smallest prefix whose mass reaches p.
  if (p.top_p < 1.0f) {
    double mass = 0;
    size_t n = 0;
    while (n < probs_.size() && mass < p.top_p) mass += probs_[n++];
    probs_.resize(std::max<size_t>(n, 1));
  }
  // min-p: drop tokens below min_p times the most likely one.
  if (p.min_p > 0.0f) {
    const double floor = p.min_p * probs_[0];
    size_t n = 1;
    while (n < probs_.size() && probs_[n] >= floor) ++n;
    probs_.resize(n);
  }
  double total = 0;
  for (double q : probs_) total += q;
  double u = rng_.uniform() * total;
  for (size_t i = 0; i < probs_.size(); ++i) {
    u -= probs_[i];
    if (u < 0) return candidates_[i];
  }
  return candidates_[probs_.size() - 1];
}

void Sampler::fill_logprobs(const float* logits, int32_t chosen, int n, TokenLogprobs* out) {
  float mx = logits[argmax(logits, n_valid_)];
  double sum = 0;
  for (int32_t i = 0; i < n_valid_; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  const double log_z = mx + std::log(sum);
  out->logprob = static_cast<float>(logits[chosen] - log_z);
  out->top.clear();
  const int k = std::min<int>(n, n_valid_);
  std::vector<int32_t>& ids = window_;  // scratch
  ids.resize(static_cast<size_t>(n_valid_));
  for (int32_t i = 0; i < n_valid_; ++i) ids[static_cast<size_t>(i)] = i;
  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), better);
  for (int i = 0; i < k; ++i) {
    out->top.push_back({ids[static_cast<size_t>(i)], static_cast<float>(logits[ids[static_cast<size_t>(i)]] - log_z)});
  }
}

int32_t Sampler::sample(const float* logits, const std::vector<int32_t>& history, int n_logprobs,
                        TokenLogprobs* logprobs) {
  std::copy(logits, logits + n_valid_, work_.begin());
  for (const auto& b : params_.logit_bias) {
    if (b.token < n_valid_) work_[static_cast<size_t>(b.token)] += b.bias;
  }
  apply_penalties(history);
  if (constraint_) constraint_(work_.data(), n_valid_);
  const int32_t chosen = params_.temperature == 0.0f ? argmax(work_.data(), n_valid_) : draw();
  if (logprobs && n_logprobs > 0) fill_logprobs(logits, chosen, n_logprobs, logprobs);
  return chosen;
}

}  // namespace ernie
