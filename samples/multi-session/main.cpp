// multi-session: several conversations sharing one model. The weights are
// loaded (mapped) once; each session has its own KV cache and runs on its own
// thread, concurrently with the others. The sessions keep the model alive, so
// the application releases its model handle as soon as they exist.
//
//   multi-session MODEL.ernie [max_tokens (32)]
#include <ernie.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "sample_args.h"

namespace {

struct Conversation {
  std::vector<std::string> questions;
  ernie_session* session = nullptr;
  std::vector<std::string> answers;
  std::vector<int32_t> tokens;  // every generated token, to compare conversations exactly
  std::string error;
};

// Runs every turn of one conversation on one session (called on its own thread).
void run_conversation(Conversation& c, int32_t max_tokens) {
  ernie_sampling_params sampling;
  ernie_sampling_params_init(&sampling);
  sampling.seed = 42;
  ernie_generate_params params;
  ernie_generate_params_init(&params);
  params.sampling = &sampling;
  params.max_tokens = max_tokens;

  std::vector<std::string> history;  // owns the strings the messages point to
  for (const std::string& q : c.questions) {
    history.push_back(q);
    std::vector<ernie_message> messages;
    for (size_t i = 0; i < history.size(); ++i)
      messages.push_back({sizeof(ernie_message), i % 2 ? "assistant" : "user", history[i].c_str(), nullptr, nullptr, 0, nullptr});
    ernie_generate_result result{};
    result.struct_size = sizeof result;
    if (ernie_session_chat(c.session, messages.data(), messages.size(), nullptr, &params, &result) != ERNIE_OK) {
      c.error = ernie_last_error();
      return;
    }
    c.answers.push_back(result.text);  // copy: the text is borrowed from the session
    c.tokens.insert(c.tokens.end(), result.tokens, result.tokens + result.n_tokens);
    history.push_back(result.text);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.ernie [max_tokens]\n", argv[0]);
    return 2;
  }
  const auto max_tokens = static_cast<int32_t>(sample::count_arg(argc, argv, 2, 32, 0, 1 << 20));  // 0: up to the context
  ernie_model* model = nullptr;
  if (ernie_model_load(argv[1], nullptr, &model) != ERNIE_OK) {
    std::fprintf(stderr, "error: %s\n", ernie_last_error());
    return 1;
  }
  std::vector<Conversation> conversations(3);
  conversations[0].questions = {"Hello! Who are you?", "What can you do?"};
  conversations[1].questions = {"Write a haiku about rain."};
  conversations[2].questions = conversations[0].questions;  // the same as the first: same answers
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = 512;
  sp.n_threads = 1;  // one core per conversation
  uint64_t bytes = 0;
  ernie_model_session_bytes(model, sp.n_ctx, 512, &bytes);
  ernie_model_info info{};
  info.struct_size = sizeof info;
  ernie_model_get_info(model, &info);
  for (Conversation& c : conversations) {
    if (ernie_session_create(model, &sp, &c.session) != ERNIE_OK) {
      std::fprintf(stderr, "error: %s\n", ernie_last_error());
      return 1;
    }
  }
  std::printf("%zu sessions share %llu bytes of weights; each adds %llu bytes\n", conversations.size(),
              static_cast<unsigned long long>(info.weight_bytes), static_cast<unsigned long long>(bytes));
  ernie_model_free(model);  // the sessions hold their own references

  std::vector<std::thread> threads;
  for (Conversation& c : conversations) threads.emplace_back(run_conversation, std::ref(c), max_tokens);
  for (std::thread& t : threads) t.join();

  int failures = 0;
  for (size_t i = 0; i < conversations.size(); ++i) {
    Conversation& c = conversations[i];
    std::printf("--- conversation %zu (%zu tokens generated)\n", i + 1, c.tokens.size());
    for (size_t t = 0; t < c.answers.size(); ++t)
      std::printf("user: %s\nassistant: %s\n", c.questions[t].c_str(), c.answers[t].c_str());
    if (!c.error.empty()) {
      std::fprintf(stderr, "conversation %zu failed: %s\n", i + 1, c.error.c_str());
      ++failures;
    }
    ernie_session_free(c.session);  // the last one releases the model
  }
  if (failures) return 1;
  bool same = !conversations[0].tokens.empty() && conversations[0].tokens == conversations[2].tokens;
  std::printf("[conversations 1 and 3: %s]\n", same ? "same tokens (same seed, independent caches)" : "DIFFERENT");
  return same ? 0 : 1;
}
