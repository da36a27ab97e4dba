// The memory budget that all sessions of one model share
// (ernie_model_params.session_memory_budget): KV caches, scratch buffers and
// kept logits. A session takes its share before allocating and gives it back
// when freed, so exceeding the budget fails with ERNIE_E_OUT_OF_MEMORY before
// any memory is touched, and leaves the model and other sessions as they were.
#pragma once

#include <atomic>
#include <cstdint>

namespace ernie {

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit = 0) : limit_(limit) {}  // 0: unlimited
  uint64_t limit() const { return limit_; }
  uint64_t in_use() const { return in_use_.load(); }
  // Takes `bytes` or throws ernie::Error(ERNIE_E_OUT_OF_MEMORY) saying what
  // `what` needed and what is left. Thread-safe.
  void take(uint64_t bytes, const char* what);
  void give_back(uint64_t bytes) { in_use_.fetch_sub(bytes); }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> in_use_{0};
};

// One holder's part of a budget, resized as its needs change and returned on
// destruction.
class BudgetShare {
 public:
  explicit BudgetShare(MemoryBudget& budget) : budget_(budget) {}
  ~BudgetShare() { budget_.give_back(bytes_); }
  BudgetShare(const BudgetShare&) = delete;
  BudgetShare& operator=(const BudgetShare&) = delete;
  // Grows (may throw ERNIE_E_OUT_OF_MEMORY; the share is then unchanged) or
  // shrinks the share to `bytes`.
  void resize(uint64_t bytes, const char* what);
  uint64_t bytes() const { return bytes_; }

 private:
  MemoryBudget& budget_;
  uint64_t bytes_ = 0;
};

}  // namespace ernie
