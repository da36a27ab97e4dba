// Reading a Conversation from the JSON a caller sends:
//   {"messages": [{"role": "user", "content": "…"}, …],
//    "tools": [{"type": "function", "function": {…}}, …],   (optional)
//    "add_generation_prompt": true,                          (optional, default true)
//    "system_settings": "…"}                                 (optional)
// Unknown keys are ignored at every level (clients send extra fields).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "chat/message.h"

namespace ernie {

// Nesting limit for conversation documents (tool schemas are the deep part).
constexpr size_t kMaxConversationDepth = 64;

// Throws ernie::Error(ERNIE_E_INVALID_ARGUMENT) for malformed JSON, nesting
// deeper than kMaxConversationDepth, or a shape error, e.g.
// "messages[2].role: unknown role 'bot'".
Conversation parse_conversation(std::string_view json_text);
Conversation conversation_from_json(const nlohmann::ordered_json& doc);

// One message object ({"role": …, "content": …, …}); `where` prefixes errors.
Message message_from_json(const nlohmann::ordered_json& j, const std::string& where);

}  // namespace ernie
