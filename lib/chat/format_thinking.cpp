// The "thinking" format (ERNIE-4.5-*-Thinking checkpoints, tool use). Each
// branch below mirrors one part of the published Jinja template; comments
// name the template behaviour where it is not obvious.
#include <string_view>

#include "chat/chat_formats.h"
#include "chat/json_dumps.h"

namespace ernie {
namespace {

constexpr std::string_view kGlobalSetting = "<global_setting>\nthink_mode=True\n</global_setting>";
constexpr std::string_view kThink = "<think>";
constexpr std::string_view kEndThink = "</think>";

// Python's str.lstrip('\n'), rstrip('\n') and strip('\n').
std::string_view lstrip_newlines(std::string_view s) {
  while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  return s;
}
std::string_view rstrip_newlines(std::string_view s) {
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}
std::string_view strip_newlines(std::string_view s) { return lstrip_newlines(rstrip_newlines(s)); }

// Python's s.split(sep)[-1]: the text after the last `sep` (all of s if none).
std::string_view after_last(std::string_view s, std::string_view sep) {
  size_t pos = s.rfind(sep);
  return pos == std::string_view::npos ? s : s.substr(pos + sep.size());
}

// Messages wrapped in <tool_output> by older clients are tool results, not queries.
bool is_wrapped_tool_output(std::string_view s) {
  return s.starts_with("<tool_output>") && s.ends_with("</tool_output>");
}

// The template's ns.last_query_index: the last user message that is a real
// query; the last message's index when there is none.
long last_query_index(const std::vector<Message>& messages) {
  for (size_t i = messages.size(); i-- > 0;)
    if (messages[i].role == Role::user && !is_wrapped_tool_output(messages[i].content))
      return static_cast<long>(i);
  return static_cast<long>(messages.size()) - 1;
}

void render_system_block(const Conversation& c, SegmentBuilder& out) {
  bool first_is_system = !c.messages.empty() && c.messages[0].role == Role::system;
  out.add_template("<|im_start|>system\n");
  if (!first_is_system && c.system_settings.empty()) {
    out.add_template(kGlobalSetting);
  } else {
    out.add_template("<system_setting>\n");
    if (!c.system_settings.empty()) {
      out.add_content(c.system_settings);
      out.add_template("\n");
    }
    if (first_is_system) {
      out.add_content(c.messages[0].content);
      out.add_template("\n");
    }
    out.add_template("</system_setting>\n\n");
    out.add_template(kGlobalSetting);
  }
  if (!c.tools.empty()) {
    // The template writes the "type" itself and only dumps each "function".
    out.add_template("\n\n<tool_list>\n[");
    for (size_t i = 0; i < c.tools.size(); ++i) {
      if (i > 0) out.add_template(",");
      out.add_template("{\"type\": \"function\", \"function\": ");
      out.add_content(json_dumps(c.tools[i].at("function")));
      out.add_template("}");
    }
    out.add_template("]\n</tool_list>");
  }
  out.add_template("<|im_end|>\n\n");
}

void render_tool_call(const MessageToolCall& call, SegmentBuilder& out) {
  out.add_template("\n<tool_call>\n{\"name\": \"");
  out.add_content(call.name);  // written raw, as the template does
  out.add_template("\", \"arguments\": ");
  if (call.arguments.is_string()) {
    out.add_content(call.arguments.get_ref<const std::string&>());  // pre-serialized
  } else {
    out.add_content(json_dumps(call.arguments));
  }
  out.add_template("}\n</tool_call>\n");
}

void render_assistant(const Message& m, bool think_block_allowed, bool is_last,
                      SegmentBuilder& out) {
  std::string_view content = m.content;
  std::string_view reasoning;
  if (m.reasoning_content) {
    reasoning = *m.reasoning_content;
  } else if (size_t end = content.find(kEndThink); end != std::string_view::npos) {
    // Reasoning left inline in the content: "<think>\n…\n</think>\n\nanswer".
    reasoning = lstrip_newlines(after_last(rstrip_newlines(content.substr(0, end)), kThink));
    content = lstrip_newlines(after_last(content, kEndThink));
  }
  // Only turns after the last user query keep their reasoning: the final one
  // always (its <think> block is written even if empty), earlier ones if any.
  if (think_block_allowed && (is_last || !reasoning.empty())) {
    out.add_template("<|im_start|>assistant\n<think>\n");
    out.add_content(strip_newlines(reasoning));
    out.add_template("\n</think>\n");
  } else {
    out.add_template("<|im_start|>assistant\n");
  }
  if (!content.empty()) {
    out.add_template("<response>\n");
    out.add_content(content);
    out.add_template("\n</response>\n");
  }
  for (size_t k = 0; k < m.tool_calls.size(); ++k) {
    if (k > 0 || !content.empty()) out.add_template("\n");
    render_tool_call(m.tool_calls[k], out);
  }
  out.add_template("<|im_end|>\n\n");
}

}  // namespace

void render_thinking(const Conversation& c, SegmentBuilder& out) {
  render_system_block(c, out);
  const auto& messages = c.messages;
  long last_query = last_query_index(messages);
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    bool is_last = i + 1 == messages.size();
    switch (m.role) {
      case Role::system:
        if (i == 0) break;  // already inside the system block
        [[fallthrough]];
      case Role::user:
        out.add_template(std::string("<|im_start|>") + role_name(m.role) + "\n");
        out.add_content(m.content);
        out.add_template("<|im_end|>\n\n");
        break;
      case Role::assistant:
        render_assistant(m, static_cast<long>(i) > last_query, is_last, out);
        break;
      case Role::tool:
        // Consecutive tool results share one <|im_start|>tool block.
        if (i == 0 || messages[i - 1].role != Role::tool) out.add_template("<|im_start|>tool");
        out.add_template("\n<tool_output>");
        out.add_content(json_dumps(nlohmann::ordered_json(m.content)));
        out.add_template("</tool_output>");
        if (is_last || messages[i + 1].role != Role::tool) out.add_template("<|im_end|>\n\n");
        break;
    }
  }
  // The template always ends with the generation prompt.
  out.add_template("<|im_start|>assistant\n<think>\n");
}

}  // namespace ernie
