#include "generation/generator.h"

#include <algorithm>

#include "generation/text_stream.h"
#include "grammar/json_matcher.h"
#include "model/model.h"
#include "model/session.h"
#include "sampling/sampler.h"
#include "tools/tool_call_parser.h"
#include "util/error.h"

namespace ernie {
namespace {

constexpr std::string_view kCloseThink = "</think>";
constexpr const char* kForcedCloseThink = "\n</think>\n\n";

// Routes released text to the caller as events: everything is answer text,
// or, in the thinking format, the output parser splits reasoning from it.
class EventRouter {
 public:
  EventRouter(const GenerateOptions& o) : options_(o), thinking_(o.output_format == ChatFormat::thinking) {}

  // Emits `text` (possibly empty) for `token`; false if the caller said stop.
  bool emit(std::string_view text, int32_t token, float logprob, const std::vector<TokenAlternative>* top,
            bool always) {
    raw_ += text;
    std::vector<Piece> pieces;
    if (thinking_) {
      for (auto& e : parser_.feed(text)) collect(e, pieces);
    } else if (!text.empty()) {
      pieces.push_back({EventType::Text, std::string(text), {}});
      answer_ += text;
    }
    if (pieces.empty() && always) pieces.push_back({in_reasoning() ? EventType::Reasoning : EventType::Text, "", {}});
    return deliver(pieces, token, logprob, top);
  }

  bool finish() {
    if (!thinking_) return true;
    std::vector<Piece> pieces;
    for (auto& e : parser_.finish()) collect(e, pieces);
    return deliver(pieces, -1, 0, nullptr);
  }

  const std::string& raw() const { return raw_; }
  const AssistantOutput& parsed() const { return parser_.result(); }

  // Thinking format: has the model not closed its reasoning yet?
  bool in_reasoning() const { return thinking_ && raw_.find(kCloseThink) == std::string::npos; }
  bool thinking() const { return thinking_; }
  // Feeds text that the caller does not see as an event (forced "</think>").
  void feed_silently(std::string_view text) {
    raw_ += text;
    if (thinking_) {
      std::vector<Piece> ignored;
      for (auto& e : parser_.feed(text)) collect(e, ignored);
    }
  }

  std::string answer() const { return thinking_ ? parser_.result().content : answer_; }

 private:
  struct Piece {
    EventType type;
    std::string text;
    std::optional<ToolCall> call;
  };

  bool deliver(const std::vector<Piece>& pieces, int32_t token, float logprob,
               const std::vector<TokenAlternative>* top) {
    bool go_on = true;
    for (size_t i = 0; i < pieces.size(); ++i) {
      GenerationEvent ev;
      ev.type = pieces[i].type;
      ev.text = pieces[i].text;
      if (pieces[i].call) ev.tool_call = &*pieces[i].call;
      if (i == 0) {
        ev.token = token;
        ev.logprob = logprob;
        ev.top = top;
      }
      if (options_.on_event && !options_.on_event(ev)) go_on = false;
    }
    return go_on;
  }

 public:
  std::string reasoning() const { return thinking_ ? parser_.result().reasoning_content : std::string(); }

 private:
  void collect(const OutputEvent& e, std::vector<Piece>& out) {
    if (e.kind == OutputEvent::Kind::reasoning_delta) out.push_back({EventType::Reasoning, e.text, {}});
    if (e.kind == OutputEvent::Kind::content_delta) out.push_back({EventType::Text, e.text, {}});
    if (e.kind == OutputEvent::Kind::tool_call) out.push_back({EventType::ToolCall, "", e.tool_call});
  }

  const GenerateOptions& options_;
  bool thinking_;
  AssistantOutputParser parser_;
  std::string raw_, answer_;
};

}  // namespace

std::vector<int32_t> end_of_turn_tokens(const Session& session) {
  const Model& m = session.model();
  std::vector<int32_t> ids{static_cast<int32_t>(m.config().eos_id)};
  for (const char* piece : {"<|end_of_sentence|>", "<|im_end|>"}) {
    int32_t id = m.tokenizer().piece_id(piece);
    if (id >= 0) ids.push_back(id);
  }
  return ids;
}

std::shared_ptr<const JsonSchema> tool_call_schema(const ToolOptions& t) {
  Json options = Json::array();
  for (const ToolSpec& spec : t.tools) {
    if (t.choice == ToolChoice::Named && spec.name != t.named) continue;
    Json call = {{"type", "object"},
                 {"properties", {{"name", {{"const", spec.name}}}, {"arguments", spec.parameters}}},
                 {"required", Json::array({"name", "arguments"})}};
    options.push_back(std::move(call));
  }
  ERNIE_CHECK(!options.empty(), ERNIE_E_INVALID_ARGUMENT,
              t.choice == ToolChoice::Named ? "tool_choice names '%s', which is not among the tools" : "no tools%s",
              t.named.c_str());
  return std::make_shared<const JsonSchema>(options.size() == 1 ? options[0] : Json{{"anyOf", options}});
}

GenerationResult generate(Session& session, const std::vector<int32_t>& prompt_in, const GenerateOptions& o) {
  const Model& model = session.model();
  const Tokenizer& tok = model.tokenizer();
  ERNIE_CHECK(o.max_tokens >= 0, ERNIE_E_INVALID_ARGUMENT, "max_tokens must not be negative");
  ERNIE_CHECK(o.n_logprobs >= 0 && o.n_logprobs <= 20, ERNIE_E_INVALID_ARGUMENT, "n_logprobs must be in [0, 20]");
  ERNIE_CHECK(o.reasoning_budget >= 0, ERNIE_E_INVALID_ARGUMENT, "reasoning_budget must not be negative");
  for (int32_t t : o.stop_tokens) {
    ERNIE_CHECK(t >= 0 && t < model.config().vocab_size, ERNIE_E_INVALID_ARGUMENT,
                "stop token %d is outside the vocabulary", t);
  }
  for (const auto& s : o.stop_strings) {
    ERNIE_CHECK(s.size() <= 4096, ERNIE_E_INVALID_ARGUMENT, "a stop string is longer than 4096 bytes");
  }
  Sampler sampler(o.sampling ? *o.sampling : SamplingParams::greedy(), static_cast<int32_t>(model.config().vocab_size),
                  tok.n_pieces());
  if (o.n_threads > 0) session.set_threads(o.n_threads);

  EventRouter router(o);
  std::vector<int32_t> prompt = prompt_in;
  // Text the SDK writes for the model, in the prompt before generation starts.
  auto prefill = [&](const std::string& text) {
    auto ids = tok.encode(text, true);
    prompt.insert(prompt.end(), ids.begin(), ids.end());
    router.feed_silently(text);
  };
  if (o.reasoning_off && router.thinking()) prefill(std::string(kCloseThink) + "\n\n");

  // Constrained decoding: a schema-constrained answer starts at once; a tool
  // call's JSON is constrained from "<tool_call>\n" until the value is complete.
  const bool tools_on = router.thinking() && !o.tools.tools.empty() && o.tools.choice != ToolChoice::None;
  const bool call_required = tools_on && (o.tools.choice == ToolChoice::Required || o.tools.choice == ToolChoice::Named);
  std::shared_ptr<const JsonSchema> call_schema = tools_on ? tool_call_schema(o.tools) : nullptr;
  std::optional<JsonMatcher> matcher;  // active while constraining
  if (o.response_schema) {
    matcher.emplace(o.response_schema);
    if (router.thinking()) prefill(o.reasoning_off ? "<response>\n" : std::string(kCloseThink) + "\n\n<response>\n");
  }
  const int32_t tool_call_token = tok.piece_id("<tool_call>");
  const bool ban_tool_calls = router.thinking() && o.tools.choice == ToolChoice::None && tool_call_token >= 0;
  const TokenFilter* filter = (o.response_schema || tools_on) ? &model.token_filter() : nullptr;
  sampler.set_constraint([&](float* logits, int32_t n) {
    if (matcher) filter->apply(*matcher, logits, n);
    if (ban_tool_calls) logits[tool_call_token] = -INFINITY;
  });

  GenerationResult r;
  r.n_prompt_tokens = static_cast<int64_t>(prompt.size());
  session.clear_cancel();
  r.n_cached_tokens = session.set_context(prompt.data(), prompt.size());

  std::vector<int32_t> stops = end_of_turn_tokens(session);
  stops.insert(stops.end(), o.stop_tokens.begin(), o.stop_tokens.end());
  TextStream stream(tok, o.stop_strings);
  TokenLogprobs logprobs;
  std::vector<TokenAlternative> top;
  const int64_t limit = o.max_tokens > 0 ? o.max_tokens : INT64_MAX;
  bool in_call = false;
  int64_t calls_done = 0;

  // Writes `text` into the context as if generated (no sampling). False if
  // the context cannot take it.
  auto inject = [&](const std::string& text) {
    auto ids = tok.encode(text, true);
    if (session.n_past() + static_cast<int64_t>(ids.size()) > session.n_ctx()) return false;
    router.emit(stream.push_text(text), -1, 0, nullptr, false);
    session.eval(ids.data(), ids.size(), false);
    return true;
  };
  auto begin_call = [&] {
    in_call = true;
    matcher.emplace(call_schema);
  };

  for (;;) {
    if (session.take_cancel()) {
      r.finish_reason = FinishReason::Cancelled;
      break;
    }
    if (r.n_generated_tokens >= limit) {
      r.finish_reason = FinishReason::Length;
      break;
    }
    // A required call starts as soon as the answer does.
    if (call_required && calls_done == 0 && !in_call && !router.in_reasoning() &&
        router.raw().find("<tool_call>") == std::string::npos) {
      if (!inject("\n<tool_call>\n")) {
        r.finish_reason = FinishReason::ContextFull;
        break;
      }
      begin_call();
    }
    if (session.n_past() >= session.n_ctx()) {
      r.finish_reason = FinishReason::ContextFull;
      break;
    }
    const auto& history = session.tokens();
    int32_t token = sampler.sample(session.logits(-1), history, o.n_logprobs, &logprobs);
    ++r.n_generated_tokens;
    r.tokens.push_back(token);
    const bool reasoning = router.in_reasoning();
    if (reasoning) ++r.n_reasoning_tokens;
    if (std::find(stops.begin(), stops.end(), token) != stops.end()) {
      r.finish_reason = FinishReason::StopToken;
      break;
    }
    bool value_complete = false;
    if (matcher) {
      ERNIE_CHECK(matcher->accept(tok.token_bytes()[static_cast<size_t>(token)]), ERNIE_E_INTERNAL,
                  "constrained decoding sampled a disallowed token %d", token);
      value_complete = matcher->is_complete();
    }
    top.clear();
    for (const auto& alt : logprobs.top) top.push_back({alt.token, alt.logprob});
    std::string text = stream.push(token);
    const bool go_on = router.emit(text, token, logprobs.logprob, o.n_logprobs > 0 ? &top : nullptr, o.n_logprobs > 0);
    if (stream.stopped()) {
      r.finish_reason = FinishReason::StopString;
      break;
    }
    if (value_complete && !in_call) {  // the constrained answer is a complete JSON value
      r.finish_reason = FinishReason::StopToken;
      break;
    }
    if (!go_on) {
      r.finish_reason = FinishReason::Cancelled;
      break;
    }
    if (session.n_past() >= session.n_ctx()) {
      r.finish_reason = FinishReason::ContextFull;
      break;
    }
    session.eval(&token, 1, false);
    if (in_call && value_complete) {  // the call's JSON is complete: close it
      in_call = false;
      matcher.reset();
      ++calls_done;
      if (!inject("\n</tool_call>\n")) {
        r.finish_reason = FinishReason::ContextFull;
        break;
      }
      if (!o.tools.parallel) {
        r.finish_reason = FinishReason::ToolCalls;
        break;
      }
    } else if (tools_on && !in_call && !router.in_reasoning() && router.raw().size() >= 11 &&
               router.raw().compare(router.raw().size() - 11, 11, "<tool_call>") == 0) {
      // The model opened a call: constrain its JSON from the next token.
      if (!inject("\n")) {
        r.finish_reason = FinishReason::ContextFull;
        break;
      }
      begin_call();
    }
    // Reasoning budget spent: make the model close its reasoning.
    if (reasoning && o.reasoning_budget > 0 && r.n_reasoning_tokens >= o.reasoning_budget && router.in_reasoning()) {
      if (!inject(kForcedCloseThink)) {
        r.finish_reason = FinishReason::ContextFull;
        break;
      }
    }
  }
  if (r.finish_reason != FinishReason::StopString) router.emit(stream.finish(), -1, 0, nullptr, false);
  router.finish();
  r.text = router.answer();
  r.reasoning = router.reasoning();
  const AssistantOutput& parsed = router.parsed();
  for (const ToolCall& call : parsed.tool_calls) r.tool_calls.push_back({{"name", call.name}, {"arguments", call.arguments}});
  r.invalid_tool_calls = static_cast<int64_t>(parsed.invalid_tool_calls);
  if (!r.tool_calls.empty() && r.finish_reason == FinishReason::StopToken) r.finish_reason = FinishReason::ToolCalls;
  return r;
}

}  // namespace ernie
