// ernie chat: an interactive, streaming conversation. Commands: /reset,
// /save FILE, /load FILE, /quit. Ctrl-C stops the answer being written, not
// the program (a watcher thread turns the signal into ernie_session_cancel:
// library calls are not async-signal-safe, so the handler only sets a flag).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "generation_flags.h"

namespace cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

struct Turn {
  std::string role, content, reasoning;
};

int32_t stream_event(void*, const ernie_event* e) {
  if (e->text_len == 0) return 0;
  FILE* out = e->type == ERNIE_EVENT_REASONING ? stderr : stdout;
  std::fwrite(e->text, 1, e->text_len, out);
  std::fflush(out);
  return 0;
}

// Save file: "ERNIECHAT1\n", the turns as role\tlength\n + content (and
// reasoning), then the session blob.
void save_chat(const std::string& path, ernie_session* session, const std::vector<Turn>& turns) {
  void* blob = nullptr;
  size_t size = 0;
  check(ernie_session_save(session, &blob, &size), "save");
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << "ERNIECHAT1\n" << turns.size() << "\n";
  for (const auto& t : turns) {
    f << t.role << "\n" << t.content.size() << "\n" << t.content << t.reasoning.size() << "\n" << t.reasoning;
  }
  f << size << "\n";
  f.write(static_cast<const char*>(blob), static_cast<std::streamsize>(size));
  ernie_free(blob);
  if (!f) throw Failure(kExitStatusBase + ERNIE_E_IO, "cannot write '" + path + "'");
}

std::string read_exact(std::istream& in, size_t n) {
  if (n > (size_t{1} << 32)) throw Failure(kExitStatusBase + ERNIE_E_INVALID_ARGUMENT, "damaged chat file");
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  if (!in) throw Failure(kExitStatusBase + ERNIE_E_INVALID_ARGUMENT, "truncated chat file");
  return s;
}

size_t read_count(std::istream& in) {
  std::string line;
  if (!std::getline(in, line) || line.empty() || line.size() > 12 ||
      line.find_first_not_of("0123456789") != std::string::npos) {
    throw Failure(kExitStatusBase + ERNIE_E_INVALID_ARGUMENT, "damaged chat file");
  }
  return std::stoull(line);
}

void load_chat(const std::string& path, ernie_session* session, std::vector<Turn>& turns) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Failure(kExitStatusBase + ERNIE_E_IO, "cannot read '" + path + "'");
  std::string magic;
  if (!std::getline(f, magic) || magic != "ERNIECHAT1") {
    throw Failure(kExitStatusBase + ERNIE_E_INVALID_ARGUMENT, "'" + path + "' is not a saved ernie chat");
  }
  std::vector<Turn> loaded;
  size_t n = read_count(f);
  for (size_t i = 0; i < n; ++i) {
    Turn t;
    if (!std::getline(f, t.role)) throw Failure(kExitStatusBase + ERNIE_E_INVALID_ARGUMENT, "truncated chat file");
    t.content = read_exact(f, read_count(f));
    t.reasoning = read_exact(f, read_count(f));
    loaded.push_back(std::move(t));
  }
  std::string blob = read_exact(f, read_count(f));
  check(ernie_session_restore(session, blob.data(), blob.size()), "load");
  turns = std::move(loaded);
}

}  // namespace

int cmd_chat(const std::vector<std::string>& argv) {
  std::vector<std::string> values = kGenerationValueFlags;
  values.insert(values.end(), {"--system", "--format"});
  Args args(argv, values, kGenerationSwitches, kGenerationRepeatableFlags);
  GenerationFlags flags(args);
  const std::string format = args.get_or("--format", "auto");
  ernie_model* model = nullptr;
  ernie_session* session = open_session(args, flags.n_ctx(), &model);
  ernie_model_free(model);

  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      if (g_interrupted) {
        g_interrupted = 0;
        ernie_session_cancel(session);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
  });

  std::vector<Turn> turns;
  if (args.has("--system")) turns.push_back({"system", args.get("--system"), ""});
  std::fprintf(stderr, "ernie chat — /reset, /save FILE, /load FILE, /quit; Ctrl-C stops an answer\n");
  std::string line;
  int code = 0;
  while (std::fputs("> ", stderr), std::getline(std::cin, line)) {
    try {
      if (line == "/quit" || line == "/exit") break;
      if (line == "/reset") {
        turns.erase(std::remove_if(turns.begin(), turns.end(), [](const Turn& t) { return t.role != "system"; }),
                    turns.end());
        check(ernie_session_reset(session), "reset");
        continue;
      }
      if (line.rfind("/save ", 0) == 0) {
        save_chat(line.substr(6), session, turns);
        std::fprintf(stderr, "saved\n");
        continue;
      }
      if (line.rfind("/load ", 0) == 0) {
        load_chat(line.substr(6), session, turns);
        std::fprintf(stderr, "loaded %zu messages\n", turns.size());
        continue;
      }
      if (line.empty()) continue;
      turns.push_back({"user", line, ""});
      std::vector<ernie_message> messages;
      for (const auto& t : turns) {
        ernie_message m{};
        m.struct_size = sizeof(m);
        m.role = t.role.c_str();
        m.content = t.content.c_str();
        m.reasoning = t.reasoning.empty() ? nullptr : t.reasoning.c_str();
        messages.push_back(m);
      }
      ernie_chat_params cp;
      ernie_chat_params_init(&cp);
      cp.format = format.c_str();
      ernie_generate_params gp = flags.params(stream_event, nullptr);
      ernie_generate_result r{};
      r.struct_size = sizeof(r);
      g_interrupted = 0;
      check(ernie_session_chat(session, messages.data(), messages.size(), &cp, &gp, &r), "chat");
      std::printf("\n");
      if (r.finish_reason == ERNIE_FINISH_CANCELLED) std::fprintf(stderr, "[stopped]\n");
      turns.push_back({"assistant", r.text, r.reasoning});
    } catch (const Failure& f) {
      std::fprintf(stderr, "ernie chat: %s\n", f.what());  // report and keep the conversation going
      if (!turns.empty() && turns.back().role == "user") turns.pop_back();
    }
  }
  done.store(true);
  watcher.join();
  ernie_session_free(session);
  return code;
}

}  // namespace cli
