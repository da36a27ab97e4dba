// The two ERNIE 4.5 chat formats (ERNIE45.md §6), rendered natively: the
// checkpoint's Jinja template is only inspected to tell which one applies.
//  - pt:       "<|begin_of_sentence|>User: …\nAssistant: …<|end_of_sentence|>"
//  - thinking: "<|im_start|>role\n…<|im_end|>\n\n" blocks with tools and
//              <think>/<response>/<tool_call> sections
// The exact bytes are those of Hugging Face's rendering of the published
// templates (golden/chat_render.json). See docs/chat-formats.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/message.h"
#include "chat/segment.h"

namespace ernie {

enum class ChatFormat { pt, thinking };

const char* chat_format_name(ChatFormat format);  // "pt", "thinking"
std::optional<ChatFormat> chat_format_from_name(std::string_view name);

// Recognizes a raw chat template: "<|im_start|>" or "think_mode" means
// thinking; "<|begin_of_sentence|>" together with "User: " means pt;
// anything else (including "") is unknown.
std::optional<ChatFormat> detect_chat_format(std::string_view chat_template);

// The override if given, else the detected format; throws
// ernie::Error(ERNIE_E_UNSUPPORTED) when the template is not recognized.
ChatFormat select_chat_format(std::string_view chat_template,
                              std::optional<ChatFormat> override_format);

// Renders the prompt; the segments concatenate to render_chat's string.
// Validates first (validate_conversation): ERNIE_E_INVALID_ARGUMENT.
std::vector<Segment> render_chat_segments(ChatFormat format, const Conversation& conversation);
std::string render_chat(ChatFormat format, const Conversation& conversation);

}  // namespace ernie
