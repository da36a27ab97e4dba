#include "util/thread_pool.h"

namespace ernie {

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

// Tasks are handed out one at a time under the lock: the loops here are
// coarse (a slice of a matrix each), so the lock is not contended.
void ThreadPool::run_tasks(int thread_index) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (next_task_ < n_tasks_) {
    int64_t task = next_task_++;
    const auto* job = job_;
    lock.unlock();
    (*job)(task, thread_index);
    lock.lock();
  }
}

void ThreadPool::worker_loop(int thread_index) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    ++busy_;
    lock.unlock();
    run_tasks(thread_index);
    lock.lock();
    if (--busy_ == 0) done_.notify_all();
  }
}

void ThreadPool::parallel_for(int64_t n_tasks, const std::function<void(int64_t, int)>& fn) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    n_tasks_ = n_tasks;
    next_task_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  run_tasks(0);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return busy_ == 0 && next_task_ >= n_tasks_; });
  job_ = nullptr;
  n_tasks_ = 0;
}

}  // namespace ernie
