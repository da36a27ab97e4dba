// The chat conversation as the renderers see it: OpenAI-style messages, the
// tool definitions and the template variables, independent of any format.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ernie {

enum class Role { system, user, assistant, tool };

const char* role_name(Role role);
std::optional<Role> role_from_name(std::string_view name);

// A call the assistant made, as given back in the history.
struct MessageToolCall {
  std::string id;  // optional, not rendered
  std::string name;
  // An object (or any JSON value) is written with json.dumps; a JSON *string*
  // is written verbatim, as the templates do with pre-serialized arguments.
  nlohmann::ordered_json arguments;
};

struct Message {
  Role role = Role::user;
  std::string content;  // "" when the caller gave null (assistant only)
  // The assistant's reasoning (the template's `thoughts`). Unset: the
  // thinking format takes it from a "<think>…</think>" prefix of content.
  std::optional<std::string> reasoning_content;
  std::vector<MessageToolCall> tool_calls;  // assistant only
  std::string tool_call_id;                 // tool only, optional, not rendered
};

struct Conversation {
  std::vector<Message> messages;
  // Tool definitions as given, each {"type": "function", "function": {...}}.
  std::vector<nlohmann::ordered_json> tools;
  // The thinking template ignores it (it always ends with the generation
  // prompt); the pt template's own default is true.
  bool add_generation_prompt = true;
  std::string system_settings;  // thinking only; "" = none
};

// Throws ernie::Error(ERNIE_E_INVALID_ARGUMENT) naming the offending field:
// no messages, text that is not valid UTF-8, a tool call without a name, a tool that is not
// an object with a "function" object, tool calls on a non-assistant message.
void validate_conversation(const Conversation& conversation);

}  // namespace ernie
