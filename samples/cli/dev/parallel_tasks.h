// ThreadPool::parallel_for with exceptions: the first exception a task
// throws is rethrown on the calling thread once every thread has stopped;
// tasks not yet started are skipped after a failure.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <utility>

#include "util/thread_pool.h"

namespace ernie::dev {

template <typename Fn>
void run_tasks(ThreadPool& pool, int64_t n_tasks, Fn&& fn) {
  std::exception_ptr error;
  std::mutex mutex;
  std::atomic<bool> failed{false};
  pool.parallel_for(n_tasks, [&](int64_t task, int thread) {
    if (failed) return;
    try {
      fn(task, thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  });
  if (error) std::rethrow_exception(error);
}

// Thread-safe progress over a known total: calls `report(fraction)` under a
// lock whenever another whole percent is done (never when `report` is empty).
class ProgressMeter {
 public:
  using Report = std::function<void(float)>;
  ProgressMeter(uint64_t total, Report report) : total_(total ? total : 1), report_(std::move(report)) {}
  void add(uint64_t n) {
    const uint64_t done = done_ += n;
    if (!report_) return;
    const int pct = static_cast<int>(done * 100 / total_);
    std::lock_guard<std::mutex> lock(mutex_);
    if (pct > last_pct_) {
      last_pct_ = pct;
      report_(static_cast<float>(done) / static_cast<float>(total_));
    }
  }

 private:
  const uint64_t total_;
  Report report_;
  std::atomic<uint64_t> done_{0};
  std::mutex mutex_;
  int last_pct_ = -1;
};

}  // namespace ernie::dev
