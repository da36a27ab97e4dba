// game-loop: text generation that never stalls a frame. A worker thread runs
// the generation; its streaming callback appends text to a mailbox. The 60 Hz
// loop polls the mailbox with try_lock — if the worker holds the lock that
// frame simply gets the text next time — and cancels the generation on
// demand with ernie_session_cancel (safe from any thread). It measures every
// poll and fails if one waited (on Linux: the thread gave up the CPU during
// the poll, as a blocking lock would) or took half a frame (8 ms) or more.
// A poll the OS preempted may take a millisecond on a busy machine; that is
// counted and printed, not failed.
//
//   game-loop MODEL.ernie [cancel_at_frame (30)] [max_frames (600)]
#include <ernie.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sys/resource.h>
#endif

#include "sample_args.h"

namespace {

using Clock = std::chrono::steady_clock;

// Text handed from the generating thread to the frame loop.
class TextMailbox {
 public:
  void post(const char* text, size_t len) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.append(text, len);
  }
  // Never waits: returns false when the worker holds the lock right now.
  bool try_take(std::string& out) {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    out.swap(pending_);  // `out` arrives empty, so the worker keeps a buffer with capacity
    pending_.clear();
    return true;
  }

 private:
  std::mutex mutex_;
  std::string pending_;
};

// Context switches of the calling thread so far: `waited` (it gave up the
// CPU: a lock or a sleep) and `preempted` (the OS took it). Linux only;
// zeros elsewhere.
struct Switches {
  long waited = 0, preempted = 0;
};
Switches thread_switches() {
#if defined(__linux__)
  rusage u{};
  if (getrusage(RUSAGE_THREAD, &u) == 0) return {u.ru_nvcsw, u.ru_nivcsw};
#endif
  return {};
}

int32_t on_event(void* user_data, const ernie_event* event) {
  if (event->text_len > 0) static_cast<TextMailbox*>(user_data)->post(event->text, event->text_len);
  return 0;
}

const char* finish_name(int32_t reason) {
  switch (reason) {
    case ERNIE_FINISH_STOP_TOKEN: return "stop token";
    case ERNIE_FINISH_STOP_STRING: return "stop string";
    case ERNIE_FINISH_LENGTH: return "length";
    case ERNIE_FINISH_CONTEXT_FULL: return "context full";
    case ERNIE_FINISH_CANCELLED: return "cancelled";
    default: return "error";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.ernie [cancel_at_frame] [max_frames]\n", argv[0]);
    return 2;
  }
  const long cancel_at = sample::count_arg(argc, argv, 2, 30, 0, 1000000);
  const long max_frames = sample::count_arg(argc, argv, 3, 600, 1, 1000000);

  ernie_model* model = nullptr;
  ernie_session* session = nullptr;
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_threads = 1;  // leave the other cores to the game
  if (ernie_model_load(argv[1], nullptr, &model) != ERNIE_OK ||
      ernie_session_create(model, &sp, &session) != ERNIE_OK) {
    std::fprintf(stderr, "error: %s\n", ernie_last_error());
    return 1;
  }

  TextMailbox mailbox;
  std::atomic<bool> finished{false};
  ernie_status status = ERNIE_OK;
  ernie_generate_result result{};
  result.struct_size = sizeof result;
  std::string error;

  // The worker: one long generation (up to the context size) streaming into the mailbox.
  std::thread worker([&] {
    ernie_message request{sizeof(ernie_message), "user", "Narrate the battle, turn by turn.", nullptr, nullptr, 0, nullptr};
    ernie_generate_params gp;
    ernie_generate_params_init(&gp);
    gp.max_tokens = 0;  // until the context is full, unless the game cancels
    gp.on_event = on_event;
    gp.user_data = &mailbox;
    status = ernie_session_chat(session, &request, 1, nullptr, &gp, &result);
    if (status != ERNIE_OK) error = ernie_last_error();  // last error is per thread: read it here
    finished.store(true, std::memory_order_release);
  });

  // The 60 Hz loop. Only the poll (mailbox, cancel, finished flag) is timed:
  // drawing (printing) is the game's own business.
  const auto frame = std::chrono::microseconds(16667);
  auto next_frame = Clock::now();
  double max_poll_ms = 0;
  long frames = 0, empty_polls = 0, busy_polls = 0, waited_polls = 0, preempted_polls = 0;
  size_t received = 0;
  std::string text;
  bool done = false;
  for (; frames < max_frames && !done; ++frames) {
    const Switches s0 = thread_switches();
    auto t0 = Clock::now();
    text.clear();
    bool got = mailbox.try_take(text);
    if (frames == cancel_at) ernie_session_cancel(session);  // e.g. the player pressed Esc
    done = finished.load(std::memory_order_acquire);
    double poll_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    const Switches s1 = thread_switches();
    max_poll_ms = std::max(max_poll_ms, poll_ms);
    if (s1.waited > s0.waited) ++waited_polls;
    if (s1.preempted > s0.preempted) ++preempted_polls;

    if (!got) ++busy_polls;
    else if (text.empty()) ++empty_polls;
    received += text.size();
    std::fwrite(text.data(), 1, text.size(), stdout);  // "draw" the new text

    next_frame += frame;
    std::this_thread::sleep_until(next_frame);
  }
  if (!done) ernie_session_cancel(session);  // out of frames: stop before joining
  worker.join();
  if (!done) {  // the worker finished after the last frame: collect what it left
    std::string rest;
    while (!mailbox.try_take(rest)) {}
    received += rest.size();
  }

  std::printf("\n[%ld frames, max poll %.3f ms, %ld polls waited, %ld preempted by the OS, "
              "%ld found the worker holding the lock, %ld found no new text, %zu bytes received]\n",
              frames, max_poll_ms, waited_polls, preempted_polls, busy_polls, empty_polls, received);
  if (status != ERNIE_OK) {
    std::fprintf(stderr, "generation failed: %s\n", error.c_str());
    return 1;
  }
  std::printf("[finish: %s after %d tokens]\n", finish_name(result.finish_reason), result.n_generated_tokens);
  ernie_session_free(session);
  ernie_model_free(model);
  if (waited_polls > 0 || max_poll_ms >= 8.0) {
    std::fprintf(stderr, "FAIL: %ld polls waited, the longest took %.3f ms (limit 8 ms)\n", waited_polls,
                 max_poll_ms);
    return 1;
  }
  return 0;
}
