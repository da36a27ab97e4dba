#include "chat/message.h"

#include "util/error.h"
#include "util/utf8.h"

namespace ernie {
namespace {

void check_utf8(std::string_view text, const std::string& where) {
  size_t bad = 0;
  ERNIE_CHECK(utf8_valid(text, &bad), ERNIE_E_INVALID_ARGUMENT,
              "%s: not valid UTF-8 (bad byte at offset %zu)", where.c_str(), bad);
}

}  // namespace

const char* role_name(Role role) {
  switch (role) {
    case Role::system: return "system";
    case Role::user: return "user";
    case Role::assistant: return "assistant";
    case Role::tool: return "tool";
  }
  return "?";
}

std::optional<Role> role_from_name(std::string_view name) {
  for (Role r : {Role::system, Role::user, Role::assistant, Role::tool})
    if (name == role_name(r)) return r;
  return std::nullopt;
}

void validate_conversation(const Conversation& c) {
  // The thinking template cannot render an empty list (it reads messages[0]).
  ERNIE_CHECK(!c.messages.empty(), ERNIE_E_INVALID_ARGUMENT, "messages: must not be empty");
  check_utf8(c.system_settings, "system_settings");
  for (size_t i = 0; i < c.tools.size(); ++i) {
    const auto& tool = c.tools[i];
    auto fn = tool.is_object() ? tool.find("function") : tool.end();
    ERNIE_CHECK(tool.is_object() && fn != tool.end() && fn->is_object(), ERNIE_E_INVALID_ARGUMENT,
                "tools[%zu]: must be an object with a \"function\" object", i);
  }
  for (size_t i = 0; i < c.messages.size(); ++i) {
    const Message& m = c.messages[i];
    std::string where = strfmt("messages[%zu]", i);
    check_utf8(m.content, where + ".content");
    if (m.reasoning_content) check_utf8(*m.reasoning_content, where + ".reasoning_content");
    check_utf8(m.tool_call_id, where + ".tool_call_id");
    ERNIE_CHECK(m.tool_calls.empty() || m.role == Role::assistant, ERNIE_E_INVALID_ARGUMENT,
                "%s: only assistant messages may have tool_calls", where.c_str());
    for (size_t k = 0; k < m.tool_calls.size(); ++k) {
      const MessageToolCall& call = m.tool_calls[k];
      std::string call_where = strfmt("%s.tool_calls[%zu]", where.c_str(), k);
      ERNIE_CHECK(!call.name.empty(), ERNIE_E_INVALID_ARGUMENT, "%s.name: must not be empty",
                  call_where.c_str());
      check_utf8(call.name, call_where + ".name");
      check_utf8(call.id, call_where + ".id");
      ERNIE_CHECK(!call.arguments.is_null(), ERNIE_E_INVALID_ARGUMENT,
                  "%s.arguments: missing (an object or a JSON string)", call_where.c_str());
      // Strings inside JSON arguments are checked when they are written.
      if (call.arguments.is_string())
        check_utf8(call.arguments.get_ref<const std::string&>(), call_where + ".arguments");
    }
  }
}

}  // namespace ernie
