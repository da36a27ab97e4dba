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
    std::vector<std::pair<EventType, std::string>> pieces;
    if (thinking_) {
      for (auto& e : parser_.feed(text)) collect(e, pieces);
    } else if (!text.empty()) {
      pieces.emplace_back(EventType::Text, std::string(text));
      answer_ += text;
    }
    if (pieces.empty() && always) pieces.emplace_back(in_reasoning() ? EventType::Reasoning : EventType::Text, "");
    bool go_on = true;
    for (size_t i = 0; i < pieces.size(); ++i) {
      GenerationEvent ev;
      ev.type = pieces[i].first;
      ev.text = pieces[i].second;
      if (i == 0) {
        ev.token = token;
        ev.logprob = logprob;
        ev.top = top;
      }
      if (options_.on_event && !options_.on_event(ev)) go_on = false;
    }
    return go_on;
  }

  bool finish() {
    if (!thinking_) return true;
    std::vector<std::pair<EventType, std::string>> pieces;
    for (auto& e : parser_.finish()) collect(e, pieces);
    bool go_on = true;
    for (auto& p : pieces) {
      GenerationEvent ev;
      ev.type = p.first;
      ev.text = p.second;
      if (options_.on_event && !options_.on_event(ev)) go_on = false;
    }
    return go_on;
  }

  // Thinking format: has the model not closed its reasoning yet?
  bool in_reasoning() const { return thinking_ && raw_.find(kCloseThink) == std::string::npos; }
  bool thinking() const { return thinking_; }
  // Feeds text that the caller does not see as an event (forced "</think>").
  void feed_silently(std::string_view text) {
    raw_ += text;
    if (thinking_) {
      std::vector<std::pair<EventType, std::string>> ignored;
      for (auto& e : parser_.feed(text)) collect(e, ignored);
    }
  }

  std::string answer() const { return thinking_ ? parser_.result().content : answer_; }
  std::string reasoning() const { return thinking_ ? parser_.result().reasoning_content : std::string(); }

 private:
  void collect(const OutputEvent& e, std::vector<std::pair<EventType, std::string>>& out) {
    if (e.kind == OutputEvent::Kind::reasoning_delta) out.emplace_back(EventType::Reasoning, e.text);
    if (e.kind == OutputEvent::Kind::content_delta) out.emplace_back(EventType::Text, e.text);
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
  std::optional<Sampler> sampler;
  sampler.emplace(o.sampling ? *o.sampling : SamplingParams::greedy(),
                  static_cast<int32_t>(model.config().vocab_size), tok.n_pieces());
  if (o.n_threads > 0) session.set_threads(o.n_threads);

  EventRouter router(o);
  std::vector<int32_t> prompt = prompt_in;
  if (o.reasoning_off && router.thinking()) {
    // The thinking template ends with "<think>\n": close it before the model starts.
    std::string close = std::string(kCloseThink) + "\n\n";
    auto ids = tok.encode(close, true);
    prompt.insert(prompt.end(), ids.begin(), ids.end());
    router.feed_silently(close);
  }

  // A schema-constrained answer starts right away: in the thinking format
  // the reasoning is closed and the response opened in the prompt.
  std::optional<JsonMatcher> matcher;
  if (o.response_schema) {
    matcher.emplace(o.response_schema);
    if (router.thinking() && !o.reasoning_off) {
      std::string open = std::string(kCloseThink) + "\n\n<response>\n";
      auto ids = tok.encode(open, true);
      prompt.insert(prompt.end(), ids.begin(), ids.end());
      router.feed_silently(open);
    } else if (router.thinking()) {
      auto ids = tok.encode("<response>\n", true);
      prompt.insert(prompt.end(), ids.begin(), ids.end());
      router.feed_silently("<response>\n");
    }
    const TokenFilter& filter = model.token_filter();
    sampler->set_constraint([&filter, &matcher](float* logits, int32_t n) { filter.apply(*matcher, logits, n); });
  }

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

  for (;;) {
    if (session.take_cancel()) {
      r.finish_reason = FinishReason::Cancelled;
      break;
    }
    if (r.n_generated_tokens >= limit) {
      r.finish_reason = FinishReason::Length;
      break;
    }
    if (session.n_past() >= session.n_ctx()) {
      r.finish_reason = FinishReason::ContextFull;
      break;
    }
    const auto& history = session.tokens();
    int32_t token = sampler->sample(session.logits(-1), history, o.n_logprobs, &logprobs);
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
    if (value_complete) {  // the constrained answer is a complete JSON value
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
    // Reasoning budget spent: make the model close its reasoning.
    if (reasoning && o.reasoning_budget > 0 && r.n_reasoning_tokens >= o.reasoning_budget && router.in_reasoning()) {
      auto ids = tok.encode(kForcedCloseThink, true);
      if (session.n_past() + static_cast<int64_t>(ids.size()) > session.n_ctx()) {
        r.finish_reason = FinishReason::ContextFull;
        break;
      }
      router.emit(stream.push_text(kForcedCloseThink), -1, 0, nullptr, false);
      session.eval(ids.data(), ids.size(), false);
    }
  }
  if (r.finish_reason != FinishReason::StopString) router.emit(stream.finish(), -1, 0, nullptr, false);
  router.finish();
  r.text = router.answer();
  r.reasoning = router.reasoning();
  return r;
}

}  // namespace ernie
