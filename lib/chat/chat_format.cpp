#include "chat/chat_format.h"

#include "chat/chat_formats.h"
#include "util/error.h"

namespace ernie {

const char* chat_format_name(ChatFormat format) {
  return format == ChatFormat::pt ? "pt" : "thinking";
}

std::optional<ChatFormat> chat_format_from_name(std::string_view name) {
  if (name == "pt") return ChatFormat::pt;
  if (name == "thinking") return ChatFormat::thinking;
  return std::nullopt;
}

std::optional<ChatFormat> detect_chat_format(std::string_view chat_template) {
  auto has = [&](std::string_view s) { return chat_template.find(s) != std::string_view::npos; };
  if (has("<|im_start|>") || has("think_mode")) return ChatFormat::thinking;
  if (has("<|begin_of_sentence|>") && has("User: ")) return ChatFormat::pt;
  return std::nullopt;
}

ChatFormat select_chat_format(std::string_view chat_template,
                              std::optional<ChatFormat> override_format) {
  if (override_format) return *override_format;
  auto detected = detect_chat_format(chat_template);
  ERNIE_CHECK(detected.has_value(), ERNIE_E_UNSUPPORTED,
              "chat template not recognized as an ERNIE 4.5 format ('pt' or 'thinking'); "
              "give the format explicitly");
  return *detected;
}

std::vector<Segment> render_chat_segments(ChatFormat format, const Conversation& conversation) {
  validate_conversation(conversation);
  SegmentBuilder out;
  if (format == ChatFormat::pt) {
    render_pt(conversation, out);
  } else {
    render_thinking(conversation, out);
  }
  return out.take();
}

std::string render_chat(ChatFormat format, const Conversation& conversation) {
  return join_segments(render_chat_segments(format, conversation));
}

}  // namespace ernie
