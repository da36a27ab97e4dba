// Reading what a model generated in the thinking format (ERNIE45.md §7): the
// text after the prompt's "<|im_start|>assistant\n<think>\n" is
//
//   reasoning "</think>" { "<response>" content "</response>"
//                        | "<tool_call>" JSON-object "</tool_call>" } ["<|im_end|>"]
//
// with whitespace between the parts. Grammar details, what is tolerated and
// what makes a call invalid: docs/chat-formats.md. Invalid calls are counted
// (and reported to a stream) but never returned as calls, so never executed.
//
// One state machine serves both entry points: the one-shot parse is the
// stream fed everything at once, so the two always agree.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tools/edge_trimmer.h"
#include "tools/json_object_scanner.h"

namespace ernie {

struct ToolCall {
  std::string name;
  nlohmann::ordered_json arguments;  // always an object, keys in the model's order
};

struct AssistantOutput {
  std::string reasoning_content;
  std::string content;
  std::vector<ToolCall> tool_calls;
  size_t invalid_tool_calls = 0;
};

struct OutputEvent {
  enum class Kind { reasoning_delta, content_delta, tool_call, invalid_tool_call };
  Kind kind;
  // reasoning_delta / content_delta: the new text (whole UTF-8 characters);
  // invalid_tool_call: the call's raw text, for logs.
  std::string text;
  ToolCall tool_call;  // tool_call only
};

// Nesting limit for a tool call's JSON (the object itself is level 1).
constexpr size_t kMaxToolCallDepth = 64;

AssistantOutput parse_assistant_output(std::string_view output);

class AssistantOutputParser {
 public:
  AssistantOutputParser();

  // The next piece of output, split anywhere (inside a tag, inside a UTF-8
  // character). Text that might still turn out to be part of a tag, or
  // whitespace that might be trimmed, is held back until it is known.
  // Throws ernie::Error(ERNIE_E_INVALID_ARGUMENT) after finish().
  std::vector<OutputEvent> feed(std::string_view delta);

  // The end of the output: releases what was held back; a tool call still
  // open is invalid; an incomplete UTF-8 character becomes U+FFFD.
  std::vector<OutputEvent> finish();

  // Everything parsed so far; after finish(), equal to parse_assistant_output
  // of the concatenated deltas.
  const AssistantOutput& result() const { return result_; }

 private:
  enum class State { reasoning, body, response, tool_call, done };
  enum class CallPhase { find_json, scan_json, close_tag, resync };

  void run();
  bool step();
  bool step_tool_call();
  // Passes text before the first of `tags` to `sink`, consumes through the
  // tag and returns it; returns "" when no tag is there yet.
  template <typename Sink>
  std::string_view take_text_until(std::initializer_list<std::string_view> tags, Sink sink);
  void emit_reasoning(std::string_view text);
  void emit_content(std::string text);
  void end_content_piece();
  void start_tool_call();
  // Ends the current call: consumes `consumed` bytes of buf_, of which the
  // first `call_length` are the call's text; `json` is empty for a call
  // already known to be invalid.
  void end_tool_call(size_t consumed, size_t call_length, std::string_view json);

  std::vector<OutputEvent> events_;  // produced by the current feed/finish
  AssistantOutput result_;
  std::string raw_;  // bytes that may end inside a UTF-8 character
  std::string buf_;  // repaired text not yet consumed
  bool finishing_ = false;
  bool finished_ = false;
  State state_ = State::reasoning;

  EdgeTrimmer reasoning_trim_;
  EdgeTrimmer loose_trim_;     // text outside any tag after </think>
  EdgeTrimmer response_trim_;  // one "\n" after <response> and before </response>
  bool content_piece_open_ = false;

  CallPhase call_phase_ = CallPhase::find_json;
  JsonObjectScanner json_scanner_;
  size_t json_start_ = 0;
  size_t cursor_ = 0;  // how far buf_ has been examined in the current phase
};

}  // namespace ernie
