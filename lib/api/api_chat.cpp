// C API: conversations — rendering and chat generation.
#include "api/api_common.h"
#include "api/generate_params.h"
#include "api/handles.h"
#include "chat/chat_format.h"
#include "chat/conversation_json.h"
#include "chat/json_dumps.h"
#include "tools/tool_call_parser.h"
#include "util/utf8.h"
#include "generation/generator.h"
#include "util/json.h"

using namespace ernie;
using ernie::api::guarded;

namespace {

std::optional<ChatFormat> format_override(const char* name) {
  if (!name || !*name || std::string_view(name) == "auto") return std::nullopt;
  auto f = chat_format_from_name(name);
  ERNIE_REQUIRE_ARG(f.has_value(), "chat format '%s' is unknown (expected auto, pt or thinking)", name);
  return f;
}

// Reads element i of a caller array whose element size is the first
// element's struct_size (so arrays from older or newer headers both work).
template <typename T>
T read_element(const T* array, size_t i, const char* what) {
  const size_t stride = array[0].struct_size;
  ERNIE_REQUIRE_ARG(stride >= sizeof(size_t) && stride <= (1u << 16), "%s[0].struct_size %zu is invalid", what,
                    stride);
  const auto* p = reinterpret_cast<const T*>(reinterpret_cast<const uint8_t*>(array) + i * stride);
  ERNIE_REQUIRE_ARG(p->struct_size == stride, "%s[%zu].struct_size differs from %s[0]'s", what, i, what);
  T out{};
  std::memcpy(static_cast<void*>(&out), p, std::min(stride, sizeof(T)));
  return out;
}

std::string text_or_empty(const char* s) { return s ? s : ""; }

Json parse_user_json(const char* text, const char* what) {
  try {
    return parse_json(text, what);
  } catch (const Error& e) {
    throw Error(ERNIE_E_INVALID_ARGUMENT, e.what());
  }
}

Conversation conversation_from_c(const ernie_message* messages, size_t n, const ernie_chat_params& p) {
  ERNIE_REQUIRE_ARG(messages || n == 0, "messages is NULL");
  Conversation c;
  for (size_t i = 0; i < n; ++i) {
    ernie_message m = read_element(messages, i, "messages");
    ERNIE_REQUIRE_ARG(m.role, "messages[%zu].role is NULL", i);
    auto role = role_from_name(m.role);
    ERNIE_REQUIRE_ARG(role.has_value(), "messages[%zu].role '%s' is not system, user, assistant or tool", i, m.role);
    Message msg;
    msg.role = *role;
    ERNIE_REQUIRE_ARG(m.content || *role == Role::assistant, "messages[%zu].content is NULL", i);
    msg.content = text_or_empty(m.content);
    if (m.reasoning) msg.reasoning_content = std::string(m.reasoning);
    msg.tool_call_id = text_or_empty(m.tool_call_id);
    ERNIE_REQUIRE_ARG(m.tool_calls || m.n_tool_calls == 0, "messages[%zu].tool_calls is NULL", i);
    for (size_t k = 0; k < m.n_tool_calls; ++k) {
      ernie_tool_call tc = read_element(m.tool_calls, k, "tool_calls");
      ERNIE_REQUIRE_ARG(tc.name && tc.arguments_json, "messages[%zu].tool_calls[%zu] needs a name and arguments", i, k);
      msg.tool_calls.push_back({text_or_empty(tc.id), tc.name, parse_user_json(tc.arguments_json, "tool call arguments")});
    }
    c.messages.push_back(std::move(msg));
  }
  if (p.tools_json) {
    Json tools = parse_user_json(p.tools_json, "tools_json");
    ERNIE_REQUIRE_ARG(tools.is_array(), "tools_json must be a JSON array");
    for (auto& t : tools) c.tools.push_back(t);
  }
  c.system_settings = text_or_empty(p.system_settings);
  c.add_generation_prompt = p.add_generation_prompt != 0;
  validate_conversation(c);
  return c;
}

ernie_chat_params chat_params_of(const ernie_chat_params* in) {
  ernie_chat_params p;
  ernie_chat_params_init(&p);
  api::read_params(in, &p, "ernie_chat_params");
  return p;
}

void return_text(const std::string& text, char** out_text, size_t* out_len) {
  auto* buf = static_cast<char*>(std::malloc(text.size() + 1));
  ERNIE_CHECK(buf, ERNIE_E_OUT_OF_MEMORY, "cannot allocate %zu bytes for the rendered prompt", text.size() + 1);
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  *out_text = buf;
  if (out_len) *out_len = text.size();
}

// Chat = render to segments, tokenize each in its mode, generate.
ernie_status chat(ernie_session* session, const Conversation& conv, std::optional<ChatFormat> override_format,
                  const ernie_generate_params* params, ernie_generate_result* result) {
  ERNIE_REQUIRE_ARG(session && session->impl, "session is NULL");
  const Model& model = session->impl->model();
  ChatFormat format = select_chat_format(model.chat_template(), override_format);
  std::vector<Segment> segments = render_chat_segments(format, conv);
  std::vector<TextPiece> pieces;
  for (const auto& s : segments) pieces.push_back({s.text, s.is_template});
  std::vector<int32_t> prompt = model.tokenizer().encode(pieces);
  GenerateOptions options = api::generate_options_of(params);
  options.output_format = format;
  return api::run_generation(session, prompt, options, result);
}

}  // namespace

extern "C" {

ERNIE_API void ernie_chat_params_init(ernie_chat_params* p) {
  if (!p) return;
  *p = ernie_chat_params{};
  p->struct_size = sizeof(*p);
  p->add_generation_prompt = 1;
}

ERNIE_API ernie_status ernie_chat_render(const ernie_model* model, const ernie_message* messages, size_t n_messages,
                                         const ernie_chat_params* params, char** out_text, size_t* out_len) {
  return guarded("ernie_chat_render", [&] {
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_chat_render: model is NULL");
    ERNIE_REQUIRE_ARG(out_text, "ernie_chat_render: out_text is NULL");
    *out_text = nullptr;
    ernie_chat_params p = chat_params_of(params);
    Conversation c = conversation_from_c(messages, n_messages, p);
    ChatFormat f = select_chat_format(model->impl->chat_template(), format_override(p.format));
    return_text(render_chat(f, c), out_text, out_len);
  });
}

ERNIE_API ernie_status ernie_chat_render_json(const ernie_model* model, const char* conversation_json,
                                              const char* format, char** out_text, size_t* out_len) {
  return guarded("ernie_chat_render_json", [&] {
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_chat_render_json: model is NULL");
    ERNIE_REQUIRE_ARG(conversation_json, "ernie_chat_render_json: conversation_json is NULL");
    ERNIE_REQUIRE_ARG(out_text, "ernie_chat_render_json: out_text is NULL");
    *out_text = nullptr;
    Conversation c = parse_conversation(conversation_json);
    ChatFormat f = select_chat_format(model->impl->chat_template(), format_override(format));
    return_text(render_chat(f, c), out_text, out_len);
  });
}

ERNIE_API ernie_status ernie_chat_parse(const ernie_model* model, const char* format, const char* output,
                                        size_t output_len, char** out_json, size_t* out_len) {
  return guarded("ernie_chat_parse", [&] {
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_chat_parse: model is NULL");
    ERNIE_REQUIRE_ARG(output || output_len == 0, "ernie_chat_parse: output is NULL");
    ERNIE_REQUIRE_ARG(out_json, "ernie_chat_parse: out_json is NULL");
    *out_json = nullptr;
    std::string_view text(output ? output : "", output_len);
    ChatFormat f = select_chat_format(model->impl->chat_template(), format_override(format));
    AssistantOutput parsed;
    if (f == ChatFormat::thinking) {
      parsed = parse_assistant_output(text);
    } else {
      ERNIE_REQUIRE_ARG(utf8_valid(text), "ernie_chat_parse: output is not valid UTF-8");
      parsed.content = std::string(text);
    }
    Json doc;
    doc["reasoning_content"] = parsed.reasoning_content;
    doc["content"] = parsed.content;
    doc["tool_calls"] = Json::array();
    for (const auto& call : parsed.tool_calls) doc["tool_calls"].push_back({{"name", call.name}, {"arguments", call.arguments}});
    doc["invalid_tool_calls"] = parsed.invalid_tool_calls;
    return_text(json_dumps(doc), out_json, out_len);
  });
}

ERNIE_API ernie_status ernie_session_chat(ernie_session* session, const ernie_message* messages, size_t n_messages,
                                          const ernie_chat_params* chat_params, const ernie_generate_params* params,
                                          ernie_generate_result* result) {
  return guarded("ernie_session_chat", [&] {
    ernie_chat_params p = chat_params_of(chat_params);
    Conversation c = conversation_from_c(messages, n_messages, p);
    return chat(session, c, format_override(p.format), params, result);
  });
}

ERNIE_API ernie_status ernie_session_chat_json(ernie_session* session, const char* conversation_json,
                                               const char* format, const ernie_generate_params* params,
                                               ernie_generate_result* result) {
  return guarded("ernie_session_chat_json", [&] {
    ERNIE_REQUIRE_ARG(conversation_json, "ernie_session_chat_json: conversation_json is NULL");
    return chat(session, parse_conversation(conversation_json), format_override(format), params, result);
  });
}

}  // extern "C"
