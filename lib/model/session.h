// A session: one sequence's context (KV cache) over a shared model, and the
// logits of the last evaluation.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <memory>
#include <optional>
#include <vector>

#include "backends/backend.h"
#include "model/memory_budget.h"
#include "util/thread_pool.h"

namespace ernie {

class Model;

struct SessionOptions {
  int64_t n_ctx = 0;    // 0: min(model max, 4096)
  int64_t n_batch = 512;
  int n_threads = 0;    // 0: the model's
  std::optional<KvType> kv_type;  // nullopt: the model's default (ModelWeights::default_kv_type)
};

class Session {
 public:
  Session(const Model& model, const SessionOptions& options);
  ~Session();

  // Appends tokens and runs the model. Checks everything first, so a refused
  // call leaves the session unchanged. Throws ERNIE_E_INVALID_ARGUMENT,
  // ERNIE_E_CONTEXT_FULL, ERNIE_E_OUT_OF_MEMORY.
  void eval(const int32_t* tokens, size_t n_tokens, bool all_logits);
  // Logits of token `index` of the last eval (negative counts from the end).
  const float* logits(int64_t index) const;
  void truncate(int64_t n_keep);
  // Makes `prompt` the context, reusing the cache for the longest common
  // prefix with the current tokens, and leaves the last prompt token's logits
  // readable at index -1. Returns how many prompt tokens were reused.
  int64_t set_context(const int32_t* prompt, size_t n_prompt);
  // Changes the worker thread count for later evaluations (0: the model's).
  void set_threads(int n_threads);

  // Cancellation of a running generation, from any thread.
  void request_cancel() { cancel_.store(true); }
  bool take_cancel() { return cancel_.exchange(false); }
  void clear_cancel() { cancel_.store(false); }

  // Saved state (docs/api.md): zstd-compressed tokens and KV cache.
  std::string save() const;
  void restore(const void* blob, size_t size);

  int64_t n_past() const { return n_past_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int64_t n_ctx() const { return state_->n_ctx(); }
  const Model& model() const { return model_; }

 private:
  uint64_t logits_row_bytes() const;

  const Model& model_;
  BudgetShare budget_;       // state_bytes_ plus the kept logits
  uint64_t state_bytes_ = 0;
  std::unique_ptr<SessionState> state_;
  std::unique_ptr<ThreadPool> pool_;
  int64_t n_past_ = 0;
  std::vector<int32_t> tokens_;  // the context, n_past_ long
  std::atomic<bool> cancel_{false};
  std::vector<float> logits_;  // [rows][vocab]
  int64_t last_n_tokens_ = 0;  // tokens in the last eval
  bool last_all_ = false;      // logits_ holds every token of it, or only the last
};

}  // namespace ernie
