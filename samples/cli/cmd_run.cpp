// ernie run: one prompt, streamed answer (or one JSON object with --json).
// The prompt is a user message in the model's chat format, unless --raw.
#include <cstdio>
#include <string>
#include <vector>

#include "generation_flags.h"

namespace cli {
namespace {

int32_t print_event(void* user_data, const ernie_event* e) {
  const bool stream = *static_cast<bool*>(user_data);
  if (!stream || e->text_len == 0) return 0;
  FILE* out = e->type == ERNIE_EVENT_REASONING ? stderr : stdout;
  std::fwrite(e->text, 1, e->text_len, out);
  std::fflush(out);
  return 0;
}

std::vector<int32_t> tokenize_raw(ernie_model* model, const std::string& text) {
  size_t n = 0;
  ernie_status st = ernie_tokenize(model, text.data(), text.size(), ERNIE_TOKENIZE_PARSE_SPECIAL, nullptr, 0, &n);
  if (st != ERNIE_E_BUFFER_TOO_SMALL) check(st, "tokenize");
  std::vector<int32_t> ids(n);
  check(ernie_tokenize(model, text.data(), text.size(), ERNIE_TOKENIZE_PARSE_SPECIAL, ids.data(), n, &n), "tokenize");
  return ids;
}

}  // namespace

int cmd_run(const std::vector<std::string>& argv) {
  std::vector<std::string> values = kGenerationValueFlags;
  values.insert(values.end(), {"-p", "--system", "--format"});
  std::vector<std::string> switches = kGenerationSwitches;
  switches.insert(switches.end(), {"--raw", "--json"});
  Args args(argv, values, switches, kGenerationRepeatableFlags);
  const std::string prompt = args.get("-p");
  const std::string system = args.get_or("--system", "");
  const std::string format = args.get_or("--format", "auto");
  GenerationFlags flags(args);
  ernie_model* model = nullptr;
  ernie_session* session = open_session(args, flags.n_ctx(), &model);

  bool stream = !args.has("--json");
  ernie_generate_params gp = flags.params(print_event, &stream);
  ernie_generate_result result{};
  result.struct_size = sizeof(result);
  ernie_status st;
  if (args.has("--raw")) {
    std::vector<int32_t> ids = tokenize_raw(model, prompt);
    st = ernie_session_generate(session, ids.data(), ids.size(), &gp, &result);
  } else {
    std::vector<ernie_message> messages;
    auto add = [&](const char* role, const std::string& content) {
      ernie_message m{};
      m.struct_size = sizeof(m);
      m.role = role;
      m.content = content.c_str();
      messages.push_back(m);
    };
    if (!system.empty()) add("system", system);
    add("user", prompt);
    ernie_chat_params cp;
    ernie_chat_params_init(&cp);
    cp.format = format.c_str();
    st = ernie_session_chat(session, messages.data(), messages.size(), &cp, &gp, &result);
  }
  if (st != ERNIE_OK) {
    ernie_session_free(session);
    ernie_model_free(model);
    check(st, "generation failed");
  }
  if (stream) {
    std::printf("\n");
  } else {
    std::string ids = "[";
    for (size_t i = 0; i < result.n_tokens; ++i) ids += (i ? ", " : "") + std::to_string(result.tokens[i]);
    ids += "]";
    std::printf(
        "{\"text\": %s, \"reasoning\": %s, \"finish_reason\": \"%s\", \"n_prompt_tokens\": %d, "
        "\"n_cached_tokens\": %d, \"n_generated_tokens\": %d, \"n_reasoning_tokens\": %d, \"tokens\": %s}\n",
        json_string(result.text).c_str(), json_string(result.reasoning).c_str(),
        finish_reason_name(result.finish_reason), result.n_prompt_tokens, result.n_cached_tokens,
        result.n_generated_tokens, result.n_reasoning_tokens, ids.c_str());
  }
  ernie_session_free(session);
  ernie_model_free(model);
  return 0;
}

}  // namespace cli
