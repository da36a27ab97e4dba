#include "util/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ERNIE_CPU_RELAX() _mm_pause()
#else
#define ERNIE_CPU_RELAX() std::this_thread::yield()
#endif

namespace ernie {
namespace {

constexpr int kGenShift = 48;
constexpr auto kSpinTime = std::chrono::microseconds(100);

uint64_t generation_of(uint64_t s) { return s >> kGenShift; }

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks(int thread_index) {
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    const uint64_t n = (s >> kCountBits) & kCountMask, next = s & kCountMask;
    if (next >= n) return;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    // The claimed task is unfinished, so the caller is still in this round:
    // fn_ and first_ are this round's.
    const auto* fn = fn_.load(std::memory_order_acquire);
    (*fn)(first_.load(std::memory_order_relaxed) + static_cast<int64_t>(next), thread_index);
    done_.fetch_add(1, std::memory_order_acq_rel);
    s = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop(int thread_index) {
  uint64_t seen = generation_of(state_.load(std::memory_order_acquire));
  for (;;) {
    // Spin for the next round a short while, then sleep.
    const auto until = std::chrono::steady_clock::now() + kSpinTime;
    uint64_t gen = seen;
    for (int i = 0; !stop_.load(std::memory_order_relaxed); ++i) {
      gen = generation_of(state_.load(std::memory_order_acquire));
      if (gen != seen) break;
      ERNIE_CPU_RELAX();
      if ((i & 255) == 255 && std::chrono::steady_clock::now() > until) break;
    }
    if (gen == seen && !stop_.load()) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lock, [&] { return stop_.load() || generation_of(state_.load(std::memory_order_seq_cst)) != seen; });
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    }
    if (stop_.load()) return;
    seen = generation_of(state_.load(std::memory_order_acquire));
    run_tasks(thread_index);
  }
}

void ThreadPool::run_round(int64_t first, int64_t n, const std::function<void(int64_t, int)>& fn) {
  fn_.store(&fn, std::memory_order_relaxed);
  first_.store(first, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  const uint64_t gen = (generation_of(state_.load(std::memory_order_relaxed)) + 1) & 0xffff;
  state_.store(gen << kGenShift | static_cast<uint64_t>(n) << kCountBits, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);  // pairs with the sleeper's check under the lock
    wake_.notify_all();
  }
  run_tasks(0);
  // The tail: other threads finishing their last tasks.
  while (done_.load(std::memory_order_acquire) < n) ERNIE_CPU_RELAX();
}

void ThreadPool::parallel_for(int64_t n_tasks, const std::function<void(int64_t, int)>& fn) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
    return;
  }
  for (int64_t first = 0; first < n_tasks; first += kMaxTasksPerRound) {
    run_round(first, std::min(kMaxTasksPerRound, n_tasks - first), fn);
  }
}

}  // namespace ernie
