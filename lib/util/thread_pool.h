// A persistent pool of worker threads for data-parallel loops. A forward
// pass issues a few hundred short loops per token, so waking sleeping
// threads for each would cost more than the work: after a loop, workers
// spin briefly (about 100 µs) waiting for the next one, then sleep on a
// condition variable, so an idle pool inside a host app uses no CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ernie {

class ThreadPool {
 public:
  // n_threads counts the calling thread, which also works: n_threads = 1
  // runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(task, thread_index) for every task in [0, n_tasks), spread over
  // the threads; returns when all are done. Calls must not overlap (one
  // caller at a time); fn must not throw.
  void parallel_for(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn);

 private:
  // The loop being run is one 64-bit word: generation (16 bits), task count
  // (24) and next unclaimed task (24). Claiming a task is one CAS on it, so a
  // worker that is late for one loop can never take a task of the next.
  static constexpr int kCountBits = 24;
  static constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
  static constexpr int64_t kMaxTasksPerRound = int64_t{1} << kCountBits;

  void worker_loop(int thread_index);
  // Claims and runs tasks of the loop published in `state` until none is left.
  void run_tasks(int thread_index);
  void run_round(int64_t first, int64_t n, const std::function<void(int64_t, int)>& fn);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> state_{0};
  std::atomic<const std::function<void(int64_t, int)>*> fn_{nullptr};
  std::atomic<int64_t> first_{0};  // task index offset of this round
  std::atomic<int64_t> done_{0};   // tasks of this round finished
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace ernie
