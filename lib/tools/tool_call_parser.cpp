#include "tools/tool_call_parser.h"

#include <algorithm>
#include <optional>

#include "tools/utf8_repair.h"
#include "util/error.h"
#include "util/json.h"
#include "util/utf8.h"

namespace ernie {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kEndThink = "</think>";
constexpr std::string_view kImEnd = "<|im_end|>";
constexpr std::string_view kResponse = "<response>";
constexpr std::string_view kEndResponse = "</response>";
constexpr std::string_view kToolCall = "<tool_call>";
constexpr std::string_view kEndToolCall = "</tool_call>";

constexpr std::string_view kLooseWhitespace = " \t\r\n";

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct TagHit {
  size_t pos;
  std::string_view tag;
};

// The earliest occurrence at or after `from` of any of `tags`.
std::optional<TagHit> find_first_tag(std::string_view text,
                                     std::initializer_list<std::string_view> tags, size_t from) {
  std::optional<TagHit> best;
  for (std::string_view tag : tags) {
    size_t pos = text.find(tag, from);
    if (pos != std::string_view::npos && (!best || pos < best->pos)) best = TagHit{pos, tag};
  }
  return best;
}

// Length of the longest end of `text` that could be the start of a tag.
size_t partial_tag_suffix(std::string_view text, std::initializer_list<std::string_view> tags) {
  size_t longest = 0;
  for (std::string_view tag : tags) {
    for (size_t k = std::min(text.size(), tag.size() - 1); k > longest; --k) {
      if (tag.starts_with(text.substr(text.size() - k))) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}

size_t longest_tag(std::initializer_list<std::string_view> tags) {
  size_t n = 0;
  for (std::string_view tag : tags) n = std::max(n, tag.size());
  return n;
}

// A call is {"name": non-empty string, "arguments": object}; arguments given
// as a string holding a JSON object (OpenAI style) are accepted and parsed.
// Other keys are ignored.
std::optional<ToolCall> tool_call_from_json_text(std::string_view text) {
  try {
    Json j = parse_json(text, "tool call", kMaxToolCallDepth);
    if (!j.is_object()) return std::nullopt;
    auto name = j.find("name");
    auto args = j.find("arguments");
    if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty())
      return std::nullopt;
    if (args == j.end()) return std::nullopt;
    Json arguments = args->is_string() ? parse_json(args->get_ref<const std::string&>(),
                                                    "tool call arguments", kMaxToolCallDepth)
                                       : std::move(*args);
    if (!arguments.is_object()) return std::nullopt;
    return ToolCall{name->get<std::string>(), std::move(arguments)};
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

AssistantOutput parse_assistant_output(std::string_view output) {
  AssistantOutputParser parser;
  parser.feed(output);
  parser.finish();
  return parser.result();
}

AssistantOutputParser::AssistantOutputParser()
    : reasoning_trim_("\n", EdgeTrimmer::kUnlimited),
      loose_trim_(kLooseWhitespace, EdgeTrimmer::kUnlimited),
      response_trim_("\n", 1),
      json_scanner_(kMaxToolCallDepth) {}

std::vector<OutputEvent> AssistantOutputParser::feed(std::string_view delta) {
  ERNIE_CHECK(!finished_, ERNIE_E_INVALID_ARGUMENT, "output parser: feed after finish");
  events_.clear();
  if (state_ == State::done) return {};
  raw_.append(delta);
  size_t whole = utf8_complete_prefix(raw_);
  buf_.append(utf8_replace_invalid(std::string_view(raw_).substr(0, whole)));
  raw_.erase(0, whole);
  run();
  return std::move(events_);
}

std::vector<OutputEvent> AssistantOutputParser::finish() {
  ERNIE_CHECK(!finished_, ERNIE_E_INVALID_ARGUMENT, "output parser: finish called twice");
  events_.clear();
  finishing_ = true;
  buf_.append(utf8_replace_invalid(raw_));
  raw_.clear();
  run();
  // Whatever the trimmers still hold is trailing whitespace of its section.
  reasoning_trim_.end();
  loose_trim_.end();
  response_trim_.end();
  state_ = State::done;
  finished_ = true;
  return std::move(events_);
}

void AssistantOutputParser::run() {
  while (step()) {
  }
}

template <typename Sink>
std::string_view AssistantOutputParser::take_text_until(
    std::initializer_list<std::string_view> tags, Sink sink) {
  auto hit = find_first_tag(buf_, tags, 0);
  size_t text_end =
      hit ? hit->pos : buf_.size() - (finishing_ ? 0 : partial_tag_suffix(buf_, tags));
  sink(std::string_view(buf_).substr(0, text_end));
  buf_.erase(0, hit ? hit->pos + hit->tag.size() : text_end);
  return hit ? hit->tag : std::string_view();
}

bool AssistantOutputParser::step() {
  switch (state_) {
    case State::reasoning: {
      auto tag =
          take_text_until({kEndThink, kImEnd}, [this](std::string_view t) { emit_reasoning(t); });
      if (tag.empty()) return false;
      reasoning_trim_.end();
      state_ = tag == kEndThink ? State::body : State::done;
      return true;
    }
    case State::body: {
      auto tag = take_text_until({kResponse, kToolCall, kImEnd},
                                 [this](std::string_view t) { emit_content(loose_trim_.push(t)); });
      if (tag.empty()) return false;
      loose_trim_.end();
      end_content_piece();
      if (tag == kResponse) {
        state_ = State::response;
      } else if (tag == kToolCall) {
        start_tool_call();
      } else {
        state_ = State::done;
      }
      return true;
    }
    case State::response: {
      auto tag = take_text_until({kEndResponse, kImEnd}, [this](std::string_view t) {
        emit_content(response_trim_.push(t));
      });
      if (tag.empty()) return false;
      response_trim_.end();
      end_content_piece();
      state_ = tag == kEndResponse ? State::body : State::done;
      return true;
    }
    case State::tool_call: return step_tool_call();
    case State::done: buf_.clear(); return false;
  }
  return false;
}

void AssistantOutputParser::emit_reasoning(std::string_view text) {
  std::string out = reasoning_trim_.push(text);
  if (out.empty()) return;
  result_.reasoning_content += out;
  events_.push_back({OutputEvent::Kind::reasoning_delta, std::move(out), {}});
}

// Content comes in pieces (response bodies, loose text); pieces are joined
// with "\n".
void AssistantOutputParser::emit_content(std::string text) {
  if (text.empty()) return;
  if (!content_piece_open_ && !result_.content.empty()) text.insert(0, "\n");
  content_piece_open_ = true;
  result_.content += text;
  events_.push_back({OutputEvent::Kind::content_delta, std::move(text), {}});
}

void AssistantOutputParser::end_content_piece() { content_piece_open_ = false; }

void AssistantOutputParser::start_tool_call() {
  state_ = State::tool_call;
  call_phase_ = CallPhase::find_json;
  json_scanner_ = JsonObjectScanner(kMaxToolCallDepth);
  json_start_ = 0;
  cursor_ = 0;
}

// buf_ starts right after "<tool_call>". The JSON object is delimited by its
// own syntax; only then must "</tool_call>" follow. A call that goes wrong
// before that ends at the next "</tool_call>" (or "<|im_end|>", or the end).
bool AssistantOutputParser::step_tool_call() {
  const size_t all = buf_.size();
  switch (call_phase_) {
    case CallPhase::find_json:
      while (cursor_ < all && is_json_space(buf_[cursor_])) ++cursor_;
      if (cursor_ == all) break;
      if (buf_[cursor_] == '{') {
        json_start_ = cursor_;
        call_phase_ = CallPhase::scan_json;
      } else {
        call_phase_ = CallPhase::resync;
      }
      return true;

    case CallPhase::scan_json: {
      auto status = json_scanner_.scan(std::string_view(buf_).substr(json_start_));
      if (status == JsonObjectScanner::Status::need_more) break;
      cursor_ = json_start_ + json_scanner_.end();
      call_phase_ =
          status == JsonObjectScanner::Status::complete ? CallPhase::close_tag : CallPhase::resync;
      return true;
    }

    case CallPhase::close_tag: {
      while (cursor_ < all && is_json_space(buf_[cursor_])) ++cursor_;
      std::string_view rest = std::string_view(buf_).substr(cursor_);
      if (rest.starts_with(kEndToolCall)) {
        std::string_view json = std::string_view(buf_).substr(json_start_, json_scanner_.end());
        end_tool_call(cursor_ + kEndToolCall.size(), cursor_, json);
        return true;
      }
      if (kEndToolCall.starts_with(rest)) break;  // the tag may still be arriving
      call_phase_ = CallPhase::resync;            // something else follows the JSON
      return true;
    }

    case CallPhase::resync: {
      auto hit = find_first_tag(buf_, {kEndToolCall, kImEnd}, cursor_);
      if (hit) {
        end_tool_call(hit->pos + hit->tag.size(), hit->pos, {});
        if (hit->tag == kImEnd) state_ = State::done;
        return true;
      }
      size_t keep = std::min(all, longest_tag({kEndToolCall, kImEnd}) - 1);
      cursor_ = std::max(cursor_, all - keep);
      break;
    }
  }
  // Waiting for more text; at the end of the output the call is cut short.
  if (!finishing_) return false;
  end_tool_call(all, all, {});
  return true;
}

void AssistantOutputParser::end_tool_call(size_t consumed, size_t call_length,
                                          std::string_view json) {
  std::optional<ToolCall> call;
  if (!json.empty()) call = tool_call_from_json_text(json);
  if (call) {
    result_.tool_calls.push_back(*call);
    events_.push_back({OutputEvent::Kind::tool_call, {}, std::move(*call)});
  } else {
    ++result_.invalid_tool_calls;
    events_.push_back({OutputEvent::Kind::invalid_tool_call, buf_.substr(0, call_length), {}});
  }
  buf_.erase(0, consumed);
  state_ = State::body;
}

}  // namespace ernie
