// chat: a streaming multi-turn conversation in C++ with RAII wrappers.
// Each line read from stdin is a user turn; the answer streams to stdout as
// it is generated, and every turn reuses the KV cache of the ones before.
//
//   chat MODEL.ernie [max_tokens]        (an empty line or end of input quits)
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "ernie_raii.hpp"
#include "sample_args.h"

namespace {

int32_t print_piece(void* /*user_data*/, const ernie_event* event) {
  if (event->type == ERNIE_EVENT_TEXT || event->type == ERNIE_EVENT_REASONING) {
    std::fwrite(event->text, 1, event->text_len, stdout);  // pieces never split a UTF-8 character
    std::fflush(stdout);
  }
  return 0;  // non-zero would stop this answer
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.ernie [max_tokens]\n", argv[0]);
    return 2;
  }
  const auto max_tokens = static_cast<int32_t>(sample::count_arg(argc, argv, 2, 256, 0, 1 << 20));  // 0: up to the context
  try {
    ernie_cpp::Model model(argv[1]);
    ernie_cpp::Session session(model);

    ernie_sampling_params sampling;
    ernie_sampling_params_init(&sampling);
    sampling.seed = 7;  // the same seed and conversation give the same answers
    ernie_generate_params params;
    ernie_generate_params_init(&params);
    params.sampling = &sampling;
    params.max_tokens = max_tokens;
    params.on_event = print_piece;

    std::vector<ernie_cpp::Message> conversation = {{"system", "You are a helpful assistant."}};
    std::string line;
    std::printf("> ");
    while (std::getline(std::cin, line) && !line.empty()) {
      conversation.push_back({"user", line});
      ernie_generate_result result = session.chat(conversation, params);
      // result.text is borrowed from the session: copy it into the history.
      conversation.push_back({"assistant", result.text});
      std::printf("\n[turn %zu: %d prompt tokens, %d reused from the cache, %d generated]\n> ",
                  conversation.size() / 2, result.n_prompt_tokens, result.n_cached_tokens,
                  result.n_generated_tokens);
    }
    std::printf("\n");
  } catch (const ernie_cpp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
