#include "generation_flags.h"

namespace cli {

const std::vector<std::string> kGenerationValueFlags = {
    "-m",           "--temp",      "--top-k",          "--top-p",   "--min-p",
    "--repeat-penalty", "--presence-penalty", "--frequency-penalty", "--penalty-window", "--seed",
    "-n",           "--max-tokens", "--logprobs",      "--reasoning-budget", "--threads", "--ctx", "--schema"};
const std::vector<std::string> kGenerationRepeatableFlags = {"--stop"};
const std::vector<std::string> kGenerationSwitches = {"--no-reasoning"};

GenerationFlags::GenerationFlags(const Args& a) {
  ernie_sampling_params_init(&sampling_);
  sampling_.temperature = static_cast<float>(a.get_double("--temp", sampling_.temperature, 0, 100));
  greedy_ = sampling_.temperature == 0.0f;
  sampling_.top_k = static_cast<int32_t>(a.get_int("--top-k", sampling_.top_k, 0, 1 << 24));
  sampling_.top_p = static_cast<float>(a.get_double("--top-p", sampling_.top_p, 0, 1));
  sampling_.min_p = static_cast<float>(a.get_double("--min-p", sampling_.min_p, 0, 1));
  sampling_.repetition_penalty = static_cast<float>(a.get_double("--repeat-penalty", 1.0, 0, 100));
  sampling_.presence_penalty = static_cast<float>(a.get_double("--presence-penalty", 0.0, -100, 100));
  sampling_.frequency_penalty = static_cast<float>(a.get_double("--frequency-penalty", 0.0, -100, 100));
  sampling_.penalty_window = static_cast<int32_t>(a.get_int("--penalty-window", sampling_.penalty_window, 0, 1 << 24));
  sampling_.seed = static_cast<uint64_t>(a.get_int("--seed", 0, 0, INT64_MAX));
  max_tokens_ = static_cast<int32_t>(a.get_int("--max-tokens", a.get_int("-n", 512, 0, 1 << 24), 0, 1 << 24));
  n_logprobs_ = static_cast<int32_t>(a.get_int("--logprobs", 0, 0, 20));
  n_threads_ = static_cast<int32_t>(a.get_int("--threads", 0, 0, 1024));
  reasoning_budget_ = static_cast<int32_t>(a.get_int("--reasoning-budget", 0, 0, 1 << 24));
  n_ctx_ = static_cast<int32_t>(a.get_int("--ctx", 0, 0, 1 << 24));
  no_reasoning_ = a.has("--no-reasoning");
  stops_ = a.get_all("--stop");
  if (a.has("--schema")) schema_ = read_text_file(a.get("--schema"));
  for (const auto& s : stops_) stop_ptrs_.push_back(s.c_str());
}

ernie_generate_params GenerationFlags::params(ernie_event_fn on_event, void* user_data) const {
  ernie_generate_params p;
  ernie_generate_params_init(&p);
  p.sampling = greedy_ ? nullptr : &sampling_;
  p.max_tokens = max_tokens_;
  p.stop_strings = stop_ptrs_.empty() ? nullptr : stop_ptrs_.data();
  p.n_stop_strings = stop_ptrs_.size();
  p.n_logprobs = n_logprobs_;
  p.reasoning = no_reasoning_ ? ERNIE_REASONING_OFF : ERNIE_REASONING_AUTO;
  p.reasoning_budget = reasoning_budget_;
  p.response_schema_json = schema_.empty() ? nullptr : schema_.c_str();
  p.on_event = on_event;
  p.user_data = user_data;
  return p;
}

const char* finish_reason_name(int32_t reason) {
  switch (reason) {
    case ERNIE_FINISH_STOP_TOKEN: return "stop_token";
    case ERNIE_FINISH_STOP_STRING: return "stop_string";
    case ERNIE_FINISH_LENGTH: return "length";
    case ERNIE_FINISH_CONTEXT_FULL: return "context_full";
    case ERNIE_FINISH_CANCELLED: return "cancelled";
    default: return "error";
  }
}

ernie_session* open_session(const Args& args, int32_t n_ctx, ernie_model** out_model) {
  ernie_model* model = load_model(args);
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = n_ctx;
  ernie_session* session = nullptr;
  ernie_status st = ernie_session_create(model, &sp, &session);
  if (st != ERNIE_OK) ernie_model_free(model);
  check(st, "cannot create session");
  *out_model = model;
  return session;
}

}  // namespace cli
