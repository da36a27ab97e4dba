// C API: sampling and generation params, ernie_session_generate, cancel,
// save/restore.
#include "api/api_common.h"
#include "api/generate_params.h"
#include "api/handles.h"
#include "chat/json_dumps.h"
#include "tools/tool_call_parser.h"
#include "util/json.h"

using namespace ernie;
using ernie::api::guarded;

namespace ernie::api {

namespace {

SamplingParams sampling_of(const ernie_sampling_params* in, int64_t vocab) {
  ernie_sampling_params p;
  ernie_sampling_params_init(&p);
  read_params(in, &p, "ernie_sampling_params");
  SamplingParams s;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.min_p = p.min_p;
  s.repetition_penalty = p.repetition_penalty;
  s.presence_penalty = p.presence_penalty;
  s.frequency_penalty = p.frequency_penalty;
  s.penalty_window = p.penalty_window;
  s.seed = p.seed;
  ERNIE_REQUIRE_ARG(p.n_logit_bias == 0 || (p.logit_bias_tokens && p.logit_bias_values),
                    "logit bias arrays are NULL");
  ERNIE_REQUIRE_ARG(p.n_logit_bias <= static_cast<size_t>(vocab), "more logit biases than vocabulary entries");
  for (size_t i = 0; i < p.n_logit_bias; ++i) {
    s.logit_bias.push_back({p.logit_bias_tokens[i], p.logit_bias_values[i]});
  }
  return s;
}

}  // namespace

GenerateOptions generate_options_of(const ernie_generate_params* in) {
  ernie_generate_params p;
  ernie_generate_params_init(&p);
  read_params(in, &p, "ernie_generate_params");
  GenerateOptions o;
  if (p.sampling) o.sampling = sampling_of(p.sampling, INT32_MAX);
  ERNIE_REQUIRE_ARG(p.max_tokens >= 0, "max_tokens %d is negative", p.max_tokens);
  o.max_tokens = p.max_tokens;
  ERNIE_REQUIRE_ARG(p.stop_strings || p.n_stop_strings == 0, "stop_strings is NULL");
  ERNIE_REQUIRE_ARG(p.n_stop_strings <= 64, "at most 64 stop strings (got %zu)", p.n_stop_strings);
  for (size_t i = 0; i < p.n_stop_strings; ++i) {
    ERNIE_REQUIRE_ARG(p.stop_strings[i], "stop_strings[%zu] is NULL", i);
    o.stop_strings.emplace_back(p.stop_strings[i]);
  }
  ERNIE_REQUIRE_ARG(p.stop_tokens || p.n_stop_tokens == 0, "stop_tokens is NULL");
  ERNIE_REQUIRE_ARG(p.n_stop_tokens <= 1024, "at most 1024 stop tokens (got %zu)", p.n_stop_tokens);
  o.stop_tokens.assign(p.stop_tokens, p.stop_tokens + p.n_stop_tokens);
  o.n_logprobs = p.n_logprobs;
  ERNIE_REQUIRE_ARG(p.n_threads >= 0 && p.n_threads <= 1024, "n_threads %d is out of range", p.n_threads);
  o.n_threads = p.n_threads;
  ERNIE_REQUIRE_ARG(p.reasoning == ERNIE_REASONING_AUTO || p.reasoning == ERNIE_REASONING_OFF,
                    "reasoning %d is not an ERNIE_REASONING_* value", p.reasoning);
  o.reasoning_off = p.reasoning == ERNIE_REASONING_OFF;
  o.reasoning_budget = p.reasoning_budget;
  ERNIE_REQUIRE_ARG(p.max_tool_rounds >= 0 && p.max_tool_rounds <= 1000, "max_tool_rounds %d is out of range",
                    p.max_tool_rounds);
  if (p.response_schema_json) {
    try {
      o.response_schema = std::make_shared<const JsonSchema>(parse_json(p.response_schema_json, "response_schema_json"));
    } catch (const Error& e) {
      throw Error(ERNIE_E_INVALID_ARGUMENT, e.what());
    }
  }
  if (p.on_event) {
    o.on_event = [fn = p.on_event, ud = p.user_data](const GenerationEvent& e) {
      std::vector<ernie_token_logprob> top;
      if (e.top) {
        for (const auto& a : *e.top) top.push_back({a.token, a.logprob});
      }
      ernie_event ev{};
      ev.struct_size = sizeof(ev);
      ev.type = static_cast<int32_t>(e.type);
      ev.text = e.text.data();
      ev.text_len = e.text.size();
      ev.token = e.token;
      ev.logprob = e.logprob;
      ev.top_logprobs = top.empty() ? nullptr : top.data();
      ev.n_top_logprobs = top.size();
      std::string args;
      ernie_tool_call call{};
      if (e.tool_call) {
        args = json_dumps(e.tool_call->arguments);
        call.struct_size = sizeof(call);
        call.id = "";
        call.name = e.tool_call->name.c_str();
        call.arguments_json = args.c_str();
        ev.tool_call = &call;
      }
      return fn(ud, &ev) == 0;
    };
  }
  return o;
}

void check_result_struct(const ernie_generate_result* result) {
  if (result) {
    ERNIE_REQUIRE_ARG(result->struct_size >= sizeof(size_t) && result->struct_size <= (1u << 16),
                      "result->struct_size %zu is invalid", result->struct_size);
  }
}

void publish_result(ernie_session* session, GenerationResult&& g, const std::vector<Json>& calls,
                    const Json& added_messages, ernie_generate_result* result) {
  session->last_text = std::move(g.text);
  session->last_reasoning = std::move(g.reasoning);
  session->last_tokens = std::move(g.tokens);
  session->last_call_strings.clear();
  session->last_calls.clear();
  session->last_call_strings.reserve(calls.size() * 3);
  for (const Json& c : calls) {
    session->last_call_strings.push_back(c.value("id", ""));
    session->last_call_strings.push_back(c["name"].get<std::string>());
    session->last_call_strings.push_back(json_dumps(c["arguments"]));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    ernie_tool_call tc{};
    tc.struct_size = sizeof(tc);
    tc.id = session->last_call_strings[i * 3].c_str();
    tc.name = session->last_call_strings[i * 3 + 1].c_str();
    tc.arguments_json = session->last_call_strings[i * 3 + 2].c_str();
    session->last_calls.push_back(tc);
  }
  session->last_messages_json = json_dumps(added_messages);
  if (!result) return;
  ernie_generate_result r{};
  r.struct_size = std::min(result->struct_size, sizeof(r));
  r.finish_reason = static_cast<int32_t>(g.finish_reason);
  r.n_prompt_tokens = static_cast<int32_t>(g.n_prompt_tokens);
  r.n_cached_tokens = static_cast<int32_t>(g.n_cached_tokens);
  r.n_generated_tokens = static_cast<int32_t>(g.n_generated_tokens);
  r.n_reasoning_tokens = static_cast<int32_t>(g.n_reasoning_tokens);
  r.text = session->last_text.c_str();
  r.reasoning = session->last_reasoning.c_str();
  r.tokens = session->last_tokens.data();
  r.n_tokens = session->last_tokens.size();
  r.tool_calls = session->last_calls.empty() ? nullptr : session->last_calls.data();
  r.n_tool_calls = session->last_calls.size();
  r.n_invalid_tool_calls = static_cast<int32_t>(g.invalid_tool_calls);
  r.messages_json = session->last_messages_json.c_str();
  std::memcpy(static_cast<void*>(result), &r, r.struct_size);
}

ernie_status run_generation(ernie_session* session, const std::vector<int32_t>& prompt, const GenerateOptions& options,
                            ernie_generate_result* result) {
  check_result_struct(result);
  if (options.sampling) validate(*options.sampling, session->impl->model().config().vocab_size);
  try {
    GenerationResult g = generate(*session->impl, prompt, options);
    publish_result(session, std::move(g), {}, Json::array(), result);
  } catch (...) {
    GenerationResult failed;
    failed.finish_reason = FinishReason::Error;
    publish_result(session, std::move(failed), {}, Json::array(), result);
    throw;
  }
  return ERNIE_OK;
}

}  // namespace ernie::api

extern "C" {

ERNIE_API void ernie_free(void* memory) { std::free(memory); }

static void sampling_params_defaults(ernie_sampling_params* p) {
  *p = ernie_sampling_params{};
  p->struct_size = sizeof(*p);
  p->temperature = 0.8f;
  p->top_k = 40;
  p->top_p = 0.95f;
  p->min_p = 0.05f;
  p->repetition_penalty = 1.0f;
  p->presence_penalty = 0.0f;
  p->frequency_penalty = 0.0f;
  p->penalty_window = 64;
  p->seed = 0;
}
ERNIE_PARAMS_INIT(ernie_sampling_params_init, ernie_sampling_params, ::ernie::api::kSamplingParamsSize1_0, sampling_params_defaults)

static void generate_params_defaults(ernie_generate_params* p) {
  *p = ernie_generate_params{};
  p->struct_size = sizeof(*p);
  p->max_tokens = 512;
  p->reasoning = ERNIE_REASONING_AUTO;
  p->max_tool_rounds = 8;
}
ERNIE_PARAMS_INIT(ernie_generate_params_init, ernie_generate_params, ::ernie::api::kGenerateParamsSize1_0, generate_params_defaults)

ERNIE_API ernie_status ernie_session_generate(ernie_session* session, const int32_t* prompt, size_t n_prompt,
                                              const ernie_generate_params* params, ernie_generate_result* result) {
  return guarded("ernie_session_generate", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_generate: session is NULL");
    ERNIE_REQUIRE_ARG(prompt && n_prompt > 0, "ernie_session_generate: the prompt is empty");
    GenerateOptions o = api::generate_options_of(params);
    return api::run_generation(session, std::vector<int32_t>(prompt, prompt + n_prompt), o, result);
  });
}

ERNIE_API ernie_status ernie_session_cancel(ernie_session* session) {
  return guarded("ernie_session_cancel", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_cancel: session is NULL");
    session->impl->request_cancel();
  });
}

ERNIE_API ernie_status ernie_session_tokens(const ernie_session* session, const int32_t** out_tokens,
                                            size_t* out_count) {
  return guarded("ernie_session_tokens", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_tokens: session is NULL");
    ERNIE_REQUIRE_ARG(out_tokens && out_count, "ernie_session_tokens: output pointers are NULL");
    *out_tokens = session->impl->tokens().data();
    *out_count = session->impl->tokens().size();
  });
}

ERNIE_API ernie_status ernie_session_reset(ernie_session* session) {
  return guarded("ernie_session_reset", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_reset: session is NULL");
    session->impl->truncate(0);
    session->last_text.clear();
    session->last_reasoning.clear();
  });
}

ERNIE_API ernie_status ernie_session_save(const ernie_session* session, void** out_blob, size_t* out_size) {
  return guarded("ernie_session_save", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_save: session is NULL");
    ERNIE_REQUIRE_ARG(out_blob && out_size, "ernie_session_save: output pointers are NULL");
    *out_blob = nullptr;
    std::string blob = session->impl->save();
    void* mem = std::malloc(blob.size());
    ERNIE_CHECK(mem, ERNIE_E_OUT_OF_MEMORY, "ernie_session_save: cannot allocate %zu bytes", blob.size());
    std::memcpy(mem, blob.data(), blob.size());
    *out_blob = mem;
    *out_size = blob.size();
  });
}

ERNIE_API ernie_status ernie_session_restore(ernie_session* session, const void* blob, size_t size) {
  return guarded("ernie_session_restore", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_restore: session is NULL");
    session->impl->restore(blob, size);
  });
}

}  // extern "C"
