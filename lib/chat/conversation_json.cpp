#include "chat/conversation_json.h"

#include "util/error.h"
#include "util/json.h"

namespace ernie {
namespace {

using Json = nlohmann::ordered_json;

// The value at `key`, or nullptr when absent or null.
const Json* find_value(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return (it == obj.end() || it->is_null()) ? nullptr : &*it;
}

std::optional<std::string> optional_string(const Json& obj, const char* key,
                                           const std::string& where) {
  const Json* v = find_value(obj, key);
  if (!v) return std::nullopt;
  ERNIE_CHECK(v->is_string(), ERNIE_E_INVALID_ARGUMENT, "%s.%s: must be a string, not %s",
              where.c_str(), key, v->type_name());
  return v->get<std::string>();
}

const Json* optional_array(const Json& obj, const char* key, const std::string& where) {
  const Json* v = find_value(obj, key);
  ERNIE_CHECK(!v || v->is_array(), ERNIE_E_INVALID_ARGUMENT, "%s.%s: must be an array, not %s",
              where.c_str(), key, v ? v->type_name() : "");
  return v;
}

// Accepts the OpenAI shape {"id", "type": "function", "function": {"name",
// "arguments"}} and the flat {"name", "arguments"} the templates also read.
MessageToolCall tool_call_from_json(const Json& j, const std::string& where) {
  ERNIE_CHECK(j.is_object(), ERNIE_E_INVALID_ARGUMENT, "%s: must be an object", where.c_str());
  MessageToolCall call;
  call.id = optional_string(j, "id", where).value_or("");
  const Json* fn = find_value(j, "function");
  std::string fn_where = fn ? where + ".function" : where;
  if (fn)
    ERNIE_CHECK(fn->is_object(), ERNIE_E_INVALID_ARGUMENT, "%s: must be an object",
                fn_where.c_str());
  const Json& body = fn ? *fn : j;
  auto name = optional_string(body, "name", fn_where);
  ERNIE_CHECK(name && !name->empty(), ERNIE_E_INVALID_ARGUMENT, "%s.name: missing or empty",
              fn_where.c_str());
  call.name = std::move(*name);
  const Json* args = find_value(body, "arguments");
  ERNIE_CHECK(args && (args->is_object() || args->is_string()), ERNIE_E_INVALID_ARGUMENT,
              "%s.arguments: must be an object or a JSON string", fn_where.c_str());
  call.arguments = *args;
  return call;
}

}  // namespace

Message message_from_json(const Json& j, const std::string& where) {
  ERNIE_CHECK(j.is_object(), ERNIE_E_INVALID_ARGUMENT, "%s: must be an object, not %s",
              where.c_str(), j.type_name());
  Message m;
  auto role = optional_string(j, "role", where);
  ERNIE_CHECK(role.has_value(), ERNIE_E_INVALID_ARGUMENT, "%s.role: missing", where.c_str());
  auto parsed_role = role_from_name(*role);
  ERNIE_CHECK(parsed_role.has_value(), ERNIE_E_INVALID_ARGUMENT,
              "%s.role: unknown role '%s' (expected system, user, assistant or tool)",
              where.c_str(), role->c_str());
  m.role = *parsed_role;

  auto content = optional_string(j, "content", where);
  ERNIE_CHECK(content || m.role == Role::assistant, ERNIE_E_INVALID_ARGUMENT,
              "%s.content: missing (a string is required for role '%s')", where.c_str(),
              role->c_str());
  m.content = content.value_or("");

  // "thoughts" is the template's name, "reasoning_content" the API's.
  auto reasoning = optional_string(j, "reasoning_content", where);
  auto thoughts = optional_string(j, "thoughts", where);
  ERNIE_CHECK(!(reasoning && thoughts), ERNIE_E_INVALID_ARGUMENT,
              "%s: give reasoning_content or thoughts, not both", where.c_str());
  m.reasoning_content = reasoning ? reasoning : thoughts;

  if (const Json* calls = optional_array(j, "tool_calls", where)) {
    ERNIE_CHECK(calls->empty() || m.role == Role::assistant, ERNIE_E_INVALID_ARGUMENT,
                "%s.tool_calls: only assistant messages may have tool_calls", where.c_str());
    for (size_t k = 0; k < calls->size(); ++k)
      m.tool_calls.push_back(
          tool_call_from_json((*calls)[k], strfmt("%s.tool_calls[%zu]", where.c_str(), k)));
  }
  m.tool_call_id = optional_string(j, "tool_call_id", where).value_or("");
  return m;
}

Conversation conversation_from_json(const Json& doc) {
  ERNIE_CHECK(doc.is_object(), ERNIE_E_INVALID_ARGUMENT,
              "conversation: must be a JSON object with \"messages\", not %s", doc.type_name());
  Conversation c;
  const Json* messages = optional_array(doc, "messages", "conversation");
  ERNIE_CHECK(messages != nullptr, ERNIE_E_INVALID_ARGUMENT, "conversation.messages: missing");
  for (size_t i = 0; i < messages->size(); ++i)
    c.messages.push_back(message_from_json((*messages)[i], strfmt("messages[%zu]", i)));

  if (const Json* tools = optional_array(doc, "tools", "conversation"))
    c.tools.assign(tools->begin(), tools->end());

  if (const Json* agp = find_value(doc, "add_generation_prompt")) {
    ERNIE_CHECK(agp->is_boolean(), ERNIE_E_INVALID_ARGUMENT,
                "conversation.add_generation_prompt: must be true or false");
    c.add_generation_prompt = agp->get<bool>();
  }
  c.system_settings = optional_string(doc, "system_settings", "conversation").value_or("");
  validate_conversation(c);
  return c;
}

Conversation parse_conversation(std::string_view json_text) {
  Json doc;
  try {
    doc = parse_json(json_text, "conversation", kMaxConversationDepth);
  } catch (const Error& e) {
    // parse_json reports model files; here the caller's input is at fault.
    throw Error(ERNIE_E_INVALID_ARGUMENT, e.what());
  }
  return conversation_from_json(doc);
}

}  // namespace ernie
