// The generation loop: prompt (with KV-cache prefix reuse) → sample → stream
// → stop. Shared by ernie_session_generate and the chat entry points.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_format.h"
#include "grammar/json_schema.h"
#include "sampling/sampling_params.h"

namespace ernie {

class Session;

enum class EventType { Text = 1, Reasoning = 2, ToolCall = 3 };

struct ToolCall;  // tools/tool_call_parser.h

// A tool the model may call (thinking format): its JSON Schema constrains
// the arguments the model writes.
struct ToolSpec {
  std::string name;
  nlohmann::ordered_json parameters;  // JSON Schema of the arguments object
};

enum class ToolChoice { Auto = 0, None = 1, Required = 2, Named = 3 };

struct ToolOptions {
  std::vector<ToolSpec> tools;
  ToolChoice choice = ToolChoice::Auto;
  std::string named;             // ToolChoice::Named
  bool parallel = true;          // false: stop after the first call
};

struct TokenAlternative {
  int32_t token;
  float logprob;
};

struct GenerationEvent {
  EventType type = EventType::Text;
  std::string_view text;
  int32_t token = -1;
  float logprob = 0;
  const std::vector<TokenAlternative>* top = nullptr;
  const ToolCall* tool_call = nullptr;  // EventType::ToolCall
};

enum class FinishReason {
  StopToken = 1, StopString = 2, Length = 3, ContextFull = 4, Cancelled = 5, Error = 6, ToolCalls = 7
};

struct GenerateOptions {
  std::optional<SamplingParams> sampling;  // nullopt: greedy
  int64_t max_tokens = 512;                // 0: until the context is full
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_tokens;        // besides the model's end-of-turn tokens
  int n_logprobs = 0;
  int n_threads = 0;                       // 0: keep the session's
  bool reasoning_off = false;              // thinking format: close <think> at once
  int64_t reasoning_budget = 0;            // thinking format: 0 = unlimited
  // How the output is read: thinking splits reasoning from the answer; any
  // other value streams everything as answer text.
  std::optional<ChatFormat> output_format;
  std::function<bool(const GenerationEvent&)> on_event;  // false: stop
  // The answer must be JSON valid under this schema (constrained decoding);
  // generation stops when the value is complete.
  std::shared_ptr<const JsonSchema> response_schema;
  // Tool calls (thinking format): arguments constrained by each tool's schema
  // once "<tool_call>" begins (or from the start when a call is required).
  ToolOptions tools;
};

struct GenerationResult {
  FinishReason finish_reason = FinishReason::StopToken;
  int64_t n_prompt_tokens = 0;
  int64_t n_cached_tokens = 0;
  int64_t n_generated_tokens = 0;
  int64_t n_reasoning_tokens = 0;
  std::string text;
  std::string reasoning;
  std::vector<int32_t> tokens;  // every sampled token
  std::vector<nlohmann::ordered_json> tool_calls;  // {"name": ..., "arguments": {...}}
  int64_t invalid_tool_calls = 0;
};

// The schema a whole tool call must follow: {"name": <one tool>, "arguments":
// <that tool's parameters>} (anyOf over the tools, or just the named one).
std::shared_ptr<const JsonSchema> tool_call_schema(const ToolOptions& tools);

GenerationResult generate(Session& session, const std::vector<int32_t>& prompt, const GenerateOptions& options);

// The model's end-of-turn tokens: eos, "<|end_of_sentence|>", "<|im_end|>".
std::vector<int32_t> end_of_turn_tokens(const Session& session);

}  // namespace ernie
