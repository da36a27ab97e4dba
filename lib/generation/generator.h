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

enum class EventType { Text = 1, Reasoning = 2 };

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
};

enum class FinishReason { StopToken = 1, StopString = 2, Length = 3, ContextFull = 4, Cancelled = 5, Error = 6 };

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
};

GenerationResult generate(Session& session, const std::vector<int32_t>& prompt, const GenerateOptions& options);

// The model's end-of-turn tokens: eos, "<|end_of_sentence|>", "<|im_end|>".
std::vector<int32_t> end_of_turn_tokens(const Session& session);

}  // namespace ernie
