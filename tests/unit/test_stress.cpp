// Concurrency stress (hardening): many sessions over one model generating at
// once, for a bounded wall time, while other threads cancel them, stop them
// from the event callback, save them and restore the blobs into new sessions
// on other threads, and free them on threads that did not create them. Every
// generation that ran to its end must equal its single-threaded reference for
// the same seed; a stopped one must have produced a prefix of it. CI runs this
// file under ThreadSanitizer ("concurrency" tests) and ASan+UBSan with leak
// detection, so "no crash, no race, no leak" is checked there.
//
// The stress phase runs for ERNIE_STRESS_SECONDS seconds (a decimal number;
// default 4, or 1.5 in a sanitizer build). It runs on past that only until
// every kind of operation has happened at least once (each worker's first
// iterations do every kind, so this is rarely needed), for at most 30 s more. A
// sanitizer build also uses fewer and shorter jobs (generation is 30-80x slower
// under ThreadSanitizer), to keep the whole test near 10 s there.
//
// Only calls the header allows to overlap do: ernie_session_cancel is the one
// session function called while another call on the same session runs, and a
// session is freed only after every call on it (cancels included) has
// returned, as ordered by a join, a mutex or a hand-over queue.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iterator>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ernie.h"
#include "support/test_util.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define ERNIE_STRESS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define ERNIE_STRESS_SANITIZED 1
#endif
#endif
#ifndef ERNIE_STRESS_SANITIZED
#define ERNIE_STRESS_SANITIZED 0
#endif

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWorkers = 6;
constexpr int32_t kCtx = 128;
constexpr int32_t kFollowTokens = ERNIE_STRESS_SANITIZED ? 6 : 12;  // tokens of a follow-up turn

double stress_seconds() {
  if (const char* env = std::getenv("ERNIE_STRESS_SECONDS")) {
    const double v = std::atof(env);
    if (v > 0) return v;
  }
  return ERNIE_STRESS_SANITIZED ? 1.5 : 4.0;
}

std::string show(const std::vector<int32_t>& v) {
  std::ostringstream o;
  o << '[';
  for (size_t i = 0; i < v.size(); ++i) o << (i ? " " : "") << v[i];
  o << ']';
  return o.str();
}

bool is_prefix(const std::vector<int32_t>& part, const std::vector<int32_t>& whole) {
  return part.size() <= whole.size() && std::equal(part.begin(), part.end(), whole.begin());
}

// One generation request and its single-threaded reference results.
struct Job {
  std::vector<int32_t> prompt;
  ernie_sampling_params sampling{};
  int32_t max_tokens = 0;
  std::vector<int32_t> tokens;  // generated on a fresh session
  int32_t finish = 0;
  std::vector<int32_t> context;  // that session's tokens afterwards
  // A follow-up turn over the context plus a few tokens: run on a session
  // restored from a save it reuses the restored KV cache for `context`.
  std::vector<int32_t> follow_prompt;
  ernie_sampling_params follow_sampling{};
  std::vector<int32_t> follow_tokens;
  int32_t follow_finish = 0;
};

// A generation's outcome, copied out of the session's borrowed result.
struct Gen {
  ernie_status status = ERNIE_E_INTERNAL;
  int32_t finish = 0;
  int32_t n_cached = 0;
  std::vector<int32_t> tokens;
  std::string error;
};

Gen generate(ernie_session* s, const std::vector<int32_t>& prompt, const ernie_sampling_params& sampling,
             int32_t max_tokens, ernie_event_fn on_event = nullptr, void* user_data = nullptr) {
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.sampling = &sampling;
  gp.max_tokens = max_tokens;
  gp.on_event = on_event;
  gp.user_data = user_data;
  ernie_generate_result r{};
  r.struct_size = sizeof(r);
  Gen g;
  g.status = ernie_session_generate(s, prompt.data(), prompt.size(), &gp, &r);
  if (g.status != ERNIE_OK) g.error = ernie_last_error();
  g.finish = r.finish_reason;
  g.n_cached = r.n_cached_tokens;
  if (r.tokens) g.tokens.assign(r.tokens, r.tokens + r.n_tokens);
  return g;
}

std::vector<int32_t> session_tokens(const ernie_session* s) {
  const int32_t* t = nullptr;
  size_t n = 0;
  if (ernie_session_tokens(s, &t, &n) != ERNIE_OK) return {-1};
  return std::vector<int32_t>(t, t + n);
}

ernie_session* new_session(ernie_model* model) {
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = kCtx;
  sp.n_threads = 1;  // many small sessions at once
  ernie_session* s = nullptr;
  if (ernie_session_create(model, &sp, &s) != ERNIE_OK) return nullptr;
  return s;
}

// Frees the sessions handed to it, on its own thread.
class Reaper {
 public:
  Reaper() : thread_([this] { loop(); }) {}
  ~Reaper() { stop(); }
  void give(ernie_session* s) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(s);
    cv_.notify_one();
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }
  int freed() const { return freed_.load(); }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      ernie_session* s = queue_.front();
      queue_.pop_front();
      lock.unlock();
      ernie_session_free(s);
      freed_++;
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<ernie_session*> queue_;
  bool stop_ = false;
  std::atomic<int> freed_{0};
  std::thread thread_;
};

// A saved session on its way to another thread, which restores it.
struct SavedBlob {
  void* blob = nullptr;
  size_t size = 0;
  size_t job = 0;
  bool complete = false;        // saved after a generation that ran to its end
  std::vector<int32_t> tokens;  // the saved session's tokens
  int from = -1;                // the worker that saved it
};

// What one worker hands to the next: a saved blob or a whole session.
struct Item {
  SavedBlob saved;
  ernie_session* session = nullptr;
  int from = -1;
};

class Inbox {
 public:
  void put(Item item) {
    std::lock_guard<std::mutex> lock(mutex_);
    items_.push_back(std::move(item));
  }
  std::vector<Item> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Item> out(std::make_move_iterator(items_.begin()), std::make_move_iterator(items_.end()));
    items_.clear();
    return out;
  }

 private:
  std::mutex mutex_;
  std::deque<Item> items_;
};

enum Op { kFull, kCancelAtRandomTime, kCancelHandshake, kCallbackStop, kIdleCancel, kSave, kMigrate, kReap, kNumOps };
const char* const kOpNames[kNumOps] = {
    "full", "cancel-at-random-time", "cancel-handshake", "callback-stop", "idle-cancel", "save", "migrate", "reap"};
const int kOpWeights[kNumOps] = {3, 2, 2, 2, 1, 2, 1, 1};

struct Counters {
  std::atomic<int> checked{0};                  // generations compared with their reference in full
  std::atomic<int> cancels_sent{0};             // ernie_session_cancel calls from a helper thread
  std::atomic<int> cancels_effective{0};        // generations a helper's cancel stopped
  std::atomic<int> timed_cancels_effective{0};  // of which by a cancel at a random time
  std::atomic<int> callback_stops{0};           // generations the event callback stopped
  std::atomic<int> prefixes_checked{0};         // stopped generations checked to be a reference prefix
  std::atomic<int> idle_cancels{0};             // cancels of an idle session (no effect)
  std::atomic<int> resumed{0};                  // full generations on a session after a stop
  std::atomic<int> saves{0};
  std::atomic<int> restores{0};  // blobs restored on a thread other than the saver
  std::atomic<int> restored_generations{0};
  std::atomic<int> migrations{0};    // sessions adopted by a worker that did not create them
  std::atomic<int> helper_frees{0};  // sessions freed by the cancelling thread
  std::atomic<int> sessions_created{0};
};

struct Stress {
  ernie_model* model = nullptr;
  std::vector<Job> jobs;
  int64_t gen_us = 1000;  // single-threaded time of one reference generation
  Counters n;
  Reaper reaper;
  Inbox inbox[kWorkers];
  Clock::time_point deadline, hard_deadline;

  std::mutex failures_mutex;
  std::vector<std::string> failures;
  int n_failures = 0;

  void fail(int worker, const char* op, size_t job, const std::string& what) {
    std::lock_guard<std::mutex> lock(failures_mutex);
    ++n_failures;
    if (failures.size() < 40) {
      failures.push_back("worker " + std::to_string(worker) + ", " + op + ", job " + std::to_string(job) + ": " + what);
    }
  }

  bool covered() const {
    return n.checked > 0 && n.cancels_effective > 0 && n.callback_stops > 0 && n.idle_cancels > 0 && n.restores > 0 &&
           n.restored_generations > 0 && n.migrations > 0 && reaper.freed() > 0 && n.helper_frees > 0 && n.resumed > 0;
  }
  bool should_stop() const {
    const auto now = Clock::now();
    return now >= hard_deadline || (now >= deadline && covered());
  }

  ernie_session* create(int worker) {
    ernie_session* s = new_session(model);
    if (!s)
      fail(worker, "create", 0, std::string("ernie_session_create failed: ") + ernie_last_error());
    else
      n.sessions_created++;
    return s;
  }

  // A generation that must equal the job's reference.
  bool expect_reference(int worker, const char* op, size_t j, const Gen& g) {
    const Job& job = jobs[j];
    if (g.status != ERNIE_OK) {
      fail(worker, op, j, "status " + std::to_string(g.status) + ": " + g.error);
      return false;
    }
    if (g.tokens != job.tokens || g.finish != job.finish) {
      fail(worker, op, j,
           "tokens " + show(g.tokens) + " (finish " + std::to_string(g.finish) + "), single-threaded " +
               show(job.tokens) + " (finish " + std::to_string(job.finish) + ")");
      return false;
    }
    n.checked++;
    return true;
  }

  // A generation something may have stopped: a prefix of the reference with
  // finish CANCELLED, or the whole reference. Returns whether it was stopped.
  bool expect_prefix(int worker, const char* op, size_t j, const Gen& g) {
    if (g.status == ERNIE_OK && g.finish == ERNIE_FINISH_CANCELLED) {
      if (!is_prefix(g.tokens, jobs[j].tokens)) {
        fail(worker, op, j, "stopped with tokens " + show(g.tokens) + ", not a prefix of " + show(jobs[j].tokens));
      } else {
        n.prefixes_checked++;
      }
      return true;
    }
    expect_reference(worker, op, j, g);
    return false;
  }

  void restore(int worker, SavedBlob& saved, ernie_session*& cur, std::mt19937& rng);
  void run_worker(int id);
};

// Event callback state: stop (return non-zero) at the `stop_at`-th token
// event, or at the `handshake_at`-th wait there until another thread has
// called ernie_session_cancel.
struct Events {
  int stop_at = 0;
  int handshake_at = 0;
  int seen = 0;
  int32_t trigger_token = -1;  // the token of the event that stopped or handed over
  std::mutex mutex;
  std::condition_variable cv;
  bool want_cancel = false, cancel_done = false, gen_done = false;
};

int32_t on_event(void* user_data, const ernie_event* ev) {
  auto* e = static_cast<Events*>(user_data);
  if (ev->token < 0) return 0;
  ++e->seen;
  if (e->stop_at > 0 && e->seen == e->stop_at) {
    e->trigger_token = ev->token;
    return 1;
  }
  if (e->handshake_at > 0 && e->seen == e->handshake_at) {
    e->trigger_token = ev->token;
    std::unique_lock<std::mutex> lock(e->mutex);
    e->want_cancel = true;
    e->cv.notify_all();
    e->cv.wait(lock, [&] { return e->cancel_done; });
  }
  return 0;
}

void Stress::restore(int worker, SavedBlob& saved, ernie_session*& cur, std::mt19937& rng) {
  const char* op = "restore";
  const size_t j = saved.job;
  const Job& job = jobs[j];
  // Mostly into a new session; sometimes over this worker's current one,
  // whatever it holds (a restore replaces the whole context).
  const bool fresh = !cur || rng() % 4 != 0;
  ernie_session* s = fresh ? create(worker) : cur;
  if (s) {
    const ernie_status st = ernie_session_restore(s, saved.blob, saved.size);
    if (st != ERNIE_OK) {
      fail(worker, op, j, std::string("ernie_session_restore failed: ") + ernie_last_error());
    } else {
      if (saved.from != worker) n.restores++;
      int64_t n_past = -1;
      ernie_session_n_past(s, &n_past);
      const std::vector<int32_t> tokens = session_tokens(s);
      if (n_past != static_cast<int64_t>(saved.tokens.size()) || tokens != saved.tokens) {
        fail(worker, op, j,
             "restored n_past " + std::to_string(n_past) + " tokens " + show(tokens) + ", saved " + show(saved.tokens));
      } else if (saved.complete) {
        // The follow-up turn reuses the restored cache for the whole context.
        Gen g = generate(s, job.follow_prompt, job.follow_sampling, kFollowTokens);
        if (g.status != ERNIE_OK || g.tokens != job.follow_tokens || g.finish != job.follow_finish ||
            g.n_cached != static_cast<int32_t>(job.context.size())) {
          fail(worker, op, j,
               "follow-up after restore: status " + std::to_string(g.status) + " tokens " + show(g.tokens) +
                   " cached " + std::to_string(g.n_cached) + "; single-threaded " + show(job.follow_tokens) +
                   " cached " + std::to_string(job.context.size()));
        } else {
          n.restored_generations++;
        }
      } else {
        // Saved after a stop: the restored context starts with the prompt,
        // so generating the job again reuses it and must give the reference.
        if (expect_reference(worker, op, j, generate(s, job.prompt, job.sampling, job.max_tokens))) {
          n.restored_generations++;
        }
      }
    }
  }
  ernie_free(saved.blob);
  saved.blob = nullptr;
  if (s && fresh) {
    // Keep the restored session, or free it on the reaper's thread.
    if (rng() % 2 == 0) {
      if (cur) reaper.give(cur);
      cur = s;
    } else {
      reaper.give(s);
    }
  }
}

void Stress::run_worker(int id) {
  std::mt19937 rng(0x5eedu + static_cast<uint32_t>(id) * 7919u);
  std::discrete_distribution<int> pick_op(std::begin(kOpWeights), std::end(kOpWeights));
  ernie_session* cur = nullptr;
  Inbox& next = inbox[(id + 1) % kWorkers];
  for (int iteration = 0; !should_stop(); ++iteration) {
    // What the previous worker handed over: blobs to restore, sessions to adopt.
    for (Item& item : inbox[id].take()) {
      if (item.session) {
        if (cur) reaper.give(cur);
        cur = item.session;
        n.migrations++;
      } else {
        restore(id, item.saved, cur, rng);
      }
    }
    // Every operation once in the first iterations, then at random.
    const bool first_round = iteration < kNumOps;
    const int op = first_round ? (iteration + id) % kNumOps : pick_op(rng);
    const size_t j = rng() % jobs.size();
    const Job& job = jobs[j];
    const char* name = kOpNames[op];
    if (!cur) cur = create(id);
    if (!cur) continue;
    ernie_session* s = cur;

    switch (op) {
      case kFull:
        expect_reference(id, name, j, generate(s, job.prompt, job.sampling, job.max_tokens));
        break;

      case kCancelAtRandomTime: {
        // A cancel at a random moment: before, during or after the generation
        // (a cancel while none runs has no effect). It may overlap the save.
        const auto delay = std::chrono::microseconds(rng() % static_cast<uint32_t>(3 * gen_us + 1));
        std::thread canceller([&, s, delay] {
          std::this_thread::sleep_for(delay);
          ernie_session_cancel(s);
          n.cancels_sent++;
        });
        Gen g = generate(s, job.prompt, job.sampling, job.max_tokens);
        void* blob = nullptr;
        size_t size = 0;
        const bool save = rng() % 2 == 0;
        if (save && ernie_session_save(s, &blob, &size) != ERNIE_OK) {
          fail(id, name, j, std::string("save failed: ") + ernie_last_error());
        }
        canceller.join();
        ernie_free(blob);
        if (expect_prefix(id, name, j, g)) {
          n.cancels_effective++;
          n.timed_cancels_effective++;
          // The session stays usable: the same job again gives the reference.
          if (expect_reference(id, name, j, generate(s, job.prompt, job.sampling, job.max_tokens))) n.resumed++;
        }
        break;
      }

      case kCancelHandshake: {
        // The callback waits at its k-th token until another thread has
        // cancelled, so the generation stops right after that token. Half of
        // the time that thread then frees the session, once generate returned.
        Events ev;
        ev.handshake_at = 1 + static_cast<int>(rng() % std::max<size_t>(1, job.tokens.size()));
        const bool helper_frees = first_round ? id % 2 == 0 : rng() % 2 == 0;
        std::thread canceller([&ev, s, helper_frees, this] {
          std::unique_lock<std::mutex> lock(ev.mutex);
          ev.cv.wait(lock, [&] { return ev.want_cancel || ev.gen_done; });
          if (ev.want_cancel) {
            ernie_session_cancel(s);
            n.cancels_sent++;
            ev.cancel_done = true;
            ev.cv.notify_all();
          }
          if (helper_frees) {
            ev.cv.wait(lock, [&] { return ev.gen_done; });
            lock.unlock();
            ernie_session_free(s);
            n.helper_frees++;
          }
        });
        Gen g = generate(s, job.prompt, job.sampling, job.max_tokens, on_event, &ev);
        {
          std::lock_guard<std::mutex> lock(ev.mutex);
          ev.gen_done = true;  // from here on the session belongs to the helper if helper_frees
          ev.cv.notify_all();
        }
        canceller.join();
        if (helper_frees) cur = nullptr;
        if (ev.trigger_token >= 0) {
          if (g.status != ERNIE_OK || g.finish != ERNIE_FINISH_CANCELLED || g.tokens.empty() ||
              g.tokens.back() != ev.trigger_token) {
            fail(id, name, j,
                 "cancelled at token " + std::to_string(ev.trigger_token) + ": status " + std::to_string(g.status) +
                     " finish " + std::to_string(g.finish) + " tokens " + show(g.tokens));
          } else if (expect_prefix(id, name, j, g)) {
            n.cancels_effective++;
          }
        } else {
          expect_reference(id, name, j, g);  // fewer token events than k
        }
        if (!helper_frees && ev.trigger_token >= 0 && (first_round || rng() % 2 == 0)) {
          if (expect_reference(id, name, j, generate(s, job.prompt, job.sampling, job.max_tokens))) n.resumed++;
        }
        break;
      }

      case kCallbackStop: {
        Events ev;
        ev.stop_at = 1 + static_cast<int>(rng() % std::max<size_t>(1, job.tokens.size()));
        Gen g = generate(s, job.prompt, job.sampling, job.max_tokens, on_event, &ev);
        if (ev.trigger_token >= 0) {
          if (g.status != ERNIE_OK || g.finish != ERNIE_FINISH_CANCELLED || g.tokens.empty() ||
              g.tokens.back() != ev.trigger_token) {
            fail(id, name, j,
                 "callback stopped at token " + std::to_string(ev.trigger_token) + ": status " +
                     std::to_string(g.status) + " finish " + std::to_string(g.finish) + " tokens " + show(g.tokens));
          } else if (expect_prefix(id, name, j, g)) {
            n.callback_stops++;
            // Save the stopped session for another thread to restore.
            if (rng() % 2 == 0) {
              Item item;
              item.saved.job = j;
              item.saved.tokens = session_tokens(s);
              item.saved.from = id;
              if (ernie_session_save(s, &item.saved.blob, &item.saved.size) != ERNIE_OK) {
                fail(id, name, j, std::string("save failed: ") + ernie_last_error());
              } else {
                n.saves++;
                next.put(std::move(item));
              }
            }
          }
        } else {
          expect_reference(id, name, j, g);
        }
        break;
      }

      case kIdleCancel: {
        // A cancel from another thread while nothing runs has no effect.
        std::thread canceller([&, s] {
          ernie_session_cancel(s);
          n.cancels_sent++;
        });
        canceller.join();
        if (expect_reference(id, name, j, generate(s, job.prompt, job.sampling, job.max_tokens))) n.idle_cancels++;
        break;
      }

      case kSave: {
        if (!expect_reference(id, name, j, generate(s, job.prompt, job.sampling, job.max_tokens))) break;
        Item item;
        item.saved.job = j;
        item.saved.complete = true;
        item.saved.tokens = session_tokens(s);
        item.saved.from = id;
        if (item.saved.tokens != job.context) {
          fail(id, name, j, "context " + show(item.saved.tokens) + ", single-threaded " + show(job.context));
          break;
        }
        if (ernie_session_save(s, &item.saved.blob, &item.saved.size) != ERNIE_OK) {
          fail(id, name, j, std::string("save failed: ") + ernie_last_error());
          break;
        }
        n.saves++;
        next.put(std::move(item));
        break;
      }

      case kMigrate: {
        // Hand the session (with whatever context it has) to the next worker.
        Item item;
        item.session = s;
        item.from = id;
        next.put(std::move(item));
        cur = nullptr;
        break;
      }

      case kReap:
        reaper.give(s);
        cur = nullptr;
        break;
    }
  }
  if (cur) reaper.give(cur);
}

}  // namespace

TEST_CASE("concurrency stress: sessions generate, cancel, save, restore and free across threads") {
  Stress st;
  REQUIRE(ernie_model_load(test::packed_golden("tiny-moe-b").c_str(), nullptr, &st.model) == ERNIE_OK);

  // The jobs and their single-threaded references, each run twice on fresh
  // sessions (once in a sanitizer build) to be sure the reference itself is
  // deterministic.
  const char* const texts[] = {"Hello world",     "The quick brown fox jumps over the lazy dog",
                               "1 2 3 4 5 6 7",   "Once upon a time, in a land far away",
                               "stress test",     "What is the capital of France?",
                               "a b c d e f g h", "Thread safety matters."};
  const float temperatures[] = {0.7f, 1.0f, 1.3f, 1.6f};
  int32_t extra[16];
  size_t n_extra = 0;
  REQUIRE(ernie_tokenize(st.model, " and then", 9, 0, extra, 16, &n_extra) == ERNIE_OK);
  REQUIRE(n_extra > 0);
  const auto t0 = Clock::now();
  int n_reference_runs = 0;
  const size_t n_jobs = ERNIE_STRESS_SANITIZED ? 4 : std::size(texts);
  for (size_t i = 0; i < n_jobs; ++i) {
    Job job;
    int32_t ids[64];
    size_t n_ids = 0;
    REQUIRE(ernie_tokenize(st.model, texts[i], std::strlen(texts[i]), 0, ids, 64, &n_ids) == ERNIE_OK);
    REQUIRE(n_ids > 0);
    job.prompt.push_back(1);  // BOS
    job.prompt.insert(job.prompt.end(), ids, ids + n_ids);
    ernie_sampling_params_init(&job.sampling);
    job.sampling.temperature = temperatures[i % std::size(temperatures)];
    job.sampling.seed = 1000 + 17 * i;
    job.max_tokens = ERNIE_STRESS_SANITIZED ? 8 + static_cast<int32_t>((i * 3) % 5)     // 8..12
                                            : 12 + static_cast<int32_t>((i * 5) % 13);  // 12..24
    for (int pass = 0; pass < (ERNIE_STRESS_SANITIZED ? 1 : 2); ++pass) {
      ernie_session* s = new_session(st.model);
      REQUIRE(s != nullptr);
      Gen g = generate(s, job.prompt, job.sampling, job.max_tokens);
      ++n_reference_runs;
      REQUIRE(g.status == ERNIE_OK);
      if (pass == 0) {
        job.tokens = g.tokens;
        job.finish = g.finish;
        job.context = session_tokens(s);
      } else {
        REQUIRE(g.tokens == job.tokens);
        REQUIRE(session_tokens(s) == job.context);
      }
      ernie_session_free(s);
    }
    job.follow_prompt = job.context;
    job.follow_prompt.insert(job.follow_prompt.end(), extra, extra + n_extra);
    ernie_sampling_params_init(&job.follow_sampling);
    job.follow_sampling.temperature = 1.0f;
    job.follow_sampling.seed = 77 + i;
    ernie_session* s = new_session(st.model);
    REQUIRE(s != nullptr);
    Gen g = generate(s, job.follow_prompt, job.follow_sampling, kFollowTokens);
    ++n_reference_runs;
    REQUIRE(g.status == ERNIE_OK);
    job.follow_tokens = g.tokens;
    job.follow_finish = g.finish;
    ernie_session_free(s);
    st.jobs.push_back(std::move(job));
  }
  st.gen_us = std::max<int64_t>(
      50, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count() / n_reference_runs);
  size_t longest = 0;
  for (const Job& job : st.jobs) longest = std::max(longest, job.tokens.size());
  REQUIRE(longest >= 4);  // something to cancel midway

  // The stress phase.
  const double seconds = stress_seconds();
  const auto start = Clock::now();
  const auto budget = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  st.deadline = start + budget;
  st.hard_deadline = st.deadline + std::chrono::seconds(30);
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) workers.emplace_back([&st, i] { st.run_worker(i); });
  for (auto& t : workers) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  // What was handed over after its receiver stopped: restore it here.
  std::mt19937 rng(42);
  ernie_session* leftover = nullptr;
  for (Inbox& box : st.inbox) {
    for (Item& item : box.take()) {
      if (item.session) {
        st.reaper.give(item.session);
      } else {
        st.restore(-1, item.saved, leftover, rng);
      }
    }
  }
  if (leftover) st.reaper.give(leftover);

  // The model's handle goes first while sessions of it are still queued for
  // the reaper: the last session freed releases the model (on that thread).
  ernie_session* a = new_session(st.model);
  ernie_session* b = new_session(st.model);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  st.expect_reference(-1, "last", 0, generate(a, st.jobs[0].prompt, st.jobs[0].sampling, st.jobs[0].max_tokens));
  st.reaper.give(a);
  st.reaper.give(b);
  ernie_model_free(st.model);
  st.model = nullptr;
  st.reaper.stop();

  // Plain ints from the counters (all workers have been joined).
  const Counters& c = st.n;
  const int checked = c.checked, prefixes = c.prefixes_checked, cancels = c.cancels_sent,
            effective = c.cancels_effective, timed = c.timed_cancels_effective, idle = c.idle_cancels,
            callback_stops = c.callback_stops, resumed = c.resumed, saves = c.saves, restores = c.restores,
            restored_gens = c.restored_generations, migrations = c.migrations, created = c.sessions_created,
            reaped = st.reaper.freed(), helper_frees = c.helper_frees;
  std::ostringstream lengths;
  for (const Job& job : st.jobs) lengths << (lengths.tellp() > 0 ? "," : "") << job.tokens.size();
  MESSAGE("concurrency stress: references of " << lengths.str() << " tokens, " << st.gen_us
                                               << " us per generation single-threaded");
  MESSAGE("concurrency stress: " << elapsed << " s (budget " << seconds << " s), " << kWorkers
                                 << " workers: " << checked << " generations checked, " << prefixes
                                 << " stopped ones checked as prefixes, " << cancels << " cancels sent (" << effective
                                 << " stopped a generation (" << timed << " of them at a random time), " << idle
                                 << " idle), " << callback_stops << " callback stops, " << resumed
                                 << " resumed after a stop, " << saves << " saves, " << restores
                                 << " cross-thread restores (" << restored_gens << " generated on), " << migrations
                                 << " migrations, " << created << " sessions, " << reaped << " freed by the reaper + "
                                 << helper_frees << " by a cancelling thread");
  for (const std::string& f : st.failures) CHECK_MESSAGE(false, f);
  CHECK(st.n_failures == 0);
  CHECK(checked > 0);
  CHECK(cancels > 0);
  CHECK(effective > 0);
  CHECK(prefixes > 0);
  CHECK(callback_stops > 0);
  CHECK(idle > 0);
  CHECK(resumed > 0);
  CHECK(saves > 0);
  CHECK(restores > 0);
  CHECK(restored_gens > 0);
  CHECK(migrations > 0);
  CHECK(reaped > 0);
  CHECK(helper_frees > 0);
  // Every session went somewhere: the reaper or a cancelling thread.
  CHECK(reaped + helper_frees == created + 2);
}
