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
#include "grammar/json_schema.h"
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
  ERNIE_REQUIRE_ARG(p.tools || p.n_tools == 0, "tools is NULL");
  ERNIE_REQUIRE_ARG(!(p.tools_json && p.n_tools), "give tools as tools_json or as structs, not both");
  for (size_t i = 0; i < p.n_tools; ++i) {
    ernie_tool t = read_element(p.tools, i, "tools");
    ERNIE_REQUIRE_ARG(t.name && *t.name, "tools[%zu].name is empty", i);
    Json fn = {{"name", t.name}};
    if (t.description) fn["description"] = t.description;
    fn["parameters"] = t.parameters_json ? parse_user_json(t.parameters_json, "tools parameters_json")
                                         : Json{{"type", "object"}};
    c.tools.push_back({{"type", "function"}, {"function", fn}});
  }
  c.system_settings = text_or_empty(p.system_settings);
  c.add_generation_prompt = p.add_generation_prompt != 0;
  validate_conversation(c);
  return c;
}

ToolOptions tool_options_of(const Conversation& c, const ernie_chat_params& p) {
  ToolOptions t;
  for (const Json& tool : c.tools) {
    const Json& fn = tool.contains("function") ? tool["function"] : tool;
    ERNIE_REQUIRE_ARG(fn.is_object() && fn.contains("name") && fn["name"].is_string(),
                      "every tool needs a function name");
    Json params = fn.contains("parameters") ? fn["parameters"] : Json{{"type", "object"}};
    t.tools.push_back({fn["name"].get<std::string>(), params});
  }
  ERNIE_REQUIRE_ARG(p.tool_choice >= ERNIE_TOOL_CHOICE_AUTO && p.tool_choice <= ERNIE_TOOL_CHOICE_NAMED,
                    "tool_choice %d is not an ERNIE_TOOL_CHOICE_* value", p.tool_choice);
  t.choice = static_cast<ToolChoice>(p.tool_choice);
  if (t.choice == ToolChoice::Named) {
    ERNIE_REQUIRE_ARG(p.tool_choice_name, "tool_choice is NAMED but tool_choice_name is NULL");
    t.named = p.tool_choice_name;
  }
  ERNIE_REQUIRE_ARG(t.choice == ToolChoice::Auto || t.choice == ToolChoice::None || !t.tools.empty(),
                    "tool_choice requires a tool call but no tools were given");
  t.parallel = p.parallel_tool_calls != 0;
  return t;
}

ernie_chat_params chat_params_of(const ernie_chat_params* in) {
  ernie_chat_params p;
  ernie_chat_params_init(&p);
  api::read_params(in, &p, "ernie_chat_params");
  return p;
}

// Chat = render to segments, tokenize each in its mode, generate; with a
// tool callback, run the calls and continue until an answer (or a limit).
ernie_status chat(ernie_session* session, Conversation conv, std::optional<ChatFormat> override_format,
                  const ToolOptions& tools, const ernie_generate_params* params, ernie_generate_result* result) {
  ERNIE_REQUIRE_ARG(session && session->impl, "session is NULL");
  api::check_result_struct(result);
  const Model& model = session->impl->model();
  ChatFormat format = select_chat_format(model.chat_template(), override_format);
  GenerateOptions options = api::generate_options_of(params);
  options.output_format = format;
  options.tools = tools;
  ERNIE_REQUIRE_ARG(!(options.response_schema && !tools.tools.empty() && tools.choice != ToolChoice::None),
                    "response_schema_json cannot be combined with tools");
  if (options.sampling) validate(*options.sampling, model.config().vocab_size);
  ernie_generate_params p;
  ernie_generate_params_init(&p);
  api::read_params(params, &p, "ernie_generate_params");
  std::vector<JsonSchema> schemas;  // per tool, to validate before running
  for (const auto& t : tools.tools) schemas.emplace_back(t.parameters);

  Json added = Json::array();
  GenerationResult total;
  for (int round = 0;; ++round) {
    std::vector<Segment> segments = render_chat_segments(format, conv);
    std::vector<TextPiece> pieces;
    for (const auto& s : segments) pieces.push_back({s.text, s.is_template});
    std::vector<int32_t> prompt = model.tokenizer().encode(pieces);
    GenerationResult g;
    try {
      g = generate(*session->impl, prompt, options);
    } catch (...) {
      GenerationResult failed;
      failed.finish_reason = FinishReason::Error;
      api::publish_result(session, std::move(failed), {}, added, result);
      throw;
    }
    g.n_generated_tokens += total.n_generated_tokens;
    g.n_reasoning_tokens += total.n_reasoning_tokens;
    std::vector<Json> calls;
    Message assistant;
    assistant.role = Role::assistant;
    assistant.content = g.text;
    if (!g.reasoning.empty()) assistant.reasoning_content = g.reasoning;
    Json assistant_json = {{"role", "assistant"}, {"content", g.text}};
    if (!g.reasoning.empty()) assistant_json["reasoning_content"] = g.reasoning;
    for (Json call : g.tool_calls) {
      call["id"] = "call_" + std::to_string(session->next_call_id++);
      assistant.tool_calls.push_back({call["id"], call["name"], call["arguments"]});
      calls.push_back(call);
    }
    if (!calls.empty()) {
      Json tc = Json::array();
      for (const Json& c : calls) {
        tc.push_back({{"id", c["id"]}, {"type", "function"},
                      {"function", {{"name", c["name"]}, {"arguments", c["arguments"]}}}});
      }
      assistant_json["tool_calls"] = tc;
    }
    added.push_back(assistant_json);
    const bool run_tools = g.finish_reason == FinishReason::ToolCalls && p.on_tool_call && !calls.empty() &&
                           round < p.max_tool_rounds;
    if (!run_tools) {
      api::publish_result(session, std::move(g), calls, added, result);
      return ERNIE_OK;
    }
    // Automatic mode: validate, run, append results, continue.
    std::vector<Message> tool_messages;
    bool deferred = false;
    for (const Json& call : calls) {
      std::string output;
      size_t k = 0;
      while (k < tools.tools.size() && tools.tools[k].name != call["name"].get<std::string>()) ++k;
      try {
        ERNIE_CHECK(k < tools.tools.size(), ERNIE_E_INVALID_ARGUMENT, "unknown tool '%s'",
                    call["name"].get<std::string>().c_str());
        schemas[k].validate(call["arguments"]);
      } catch (const Error& e) {
        output = std::string("error: ") + e.what();  // never executed; the model is told why
      }
      if (output.empty()) {
        const std::string args = json_dumps(call["arguments"]);
        const std::string id = call["id"], name = call["name"];
        ernie_tool_call tc{sizeof(ernie_tool_call), id.c_str(), name.c_str(), args.c_str()};
        ernie_tool_output out;
        const int32_t rc = p.on_tool_call(p.tool_user_data, &tc, &out);
        if (rc == ERNIE_TOOL_DEFER) {
          deferred = true;
          break;
        }
        ERNIE_CHECK(rc == ERNIE_TOOL_RESULT && out.set, ERNIE_E_INVALID_ARGUMENT,
                    "tool callback for '%s' returned %d without a result (set one with ernie_tool_output_set)",
                    name.c_str(), rc);
        output = out.text;
      }
      Message m;
      m.role = Role::tool;
      m.content = output;
      m.tool_call_id = call["id"];
      tool_messages.push_back(m);
    }
    if (deferred) {
      api::publish_result(session, std::move(g), calls, added, result);
      return ERNIE_OK;
    }
    conv.messages.push_back(assistant);
    for (auto& m : tool_messages) {
      added.push_back({{"role", "tool"}, {"tool_call_id", m.tool_call_id}, {"content", m.content}});
      conv.messages.push_back(std::move(m));
    }
    total.n_generated_tokens = g.n_generated_tokens;
    total.n_reasoning_tokens = g.n_reasoning_tokens;
    // A required or named call was made: later rounds may answer in text.
    if (options.tools.choice == ToolChoice::Required || options.tools.choice == ToolChoice::Named) {
      options.tools.choice = ToolChoice::Auto;
    }
  }
}

}  // namespace

extern "C" {

static void chat_params_defaults(ernie_chat_params* p) {
  *p = ernie_chat_params{};
  p->struct_size = sizeof(*p);
  p->add_generation_prompt = 1;
}
ERNIE_PARAMS_INIT(ernie_chat_params_init, ernie_chat_params, ::ernie::api::kChatParamsSize1_0, chat_params_defaults)

ERNIE_API ernie_status ernie_tool_output_set(ernie_tool_output* output, const char* text, size_t len) {
  return guarded("ernie_tool_output_set", [&] {
    ERNIE_REQUIRE_ARG(output, "ernie_tool_output_set: output is NULL");
    ERNIE_REQUIRE_ARG(text || len == 0, "ernie_tool_output_set: text is NULL");
    std::string_view t(text ? text : "", len);
    ERNIE_REQUIRE_ARG(utf8_valid(t), "ernie_tool_output_set: the result is not valid UTF-8");
    output->text.assign(t);
    output->set = true;
  });
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
    api::return_text(render_chat(f, c), out_text, out_len);
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
    api::return_text(render_chat(f, c), out_text, out_len);
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
    api::return_text(json_dumps(doc), out_json, out_len);
  });
}

ERNIE_API ernie_status ernie_session_chat(ernie_session* session, const ernie_message* messages, size_t n_messages,
                                          const ernie_chat_params* chat_params, const ernie_generate_params* params,
                                          ernie_generate_result* result) {
  return guarded("ernie_session_chat", [&] {
    ernie_chat_params p = chat_params_of(chat_params);
    Conversation c = conversation_from_c(messages, n_messages, p);
    return chat(session, c, format_override(p.format), tool_options_of(c, p), params, result);
  });
}

ERNIE_API ernie_status ernie_session_chat_json(ernie_session* session, const char* conversation_json,
                                               const char* format, const ernie_generate_params* params,
                                               ernie_generate_result* result) {
  return guarded("ernie_session_chat_json", [&] {
    ERNIE_REQUIRE_ARG(conversation_json, "ernie_session_chat_json: conversation_json is NULL");
    Conversation c = parse_conversation(conversation_json);
    ernie_chat_params p;
    ernie_chat_params_init(&p);
    return chat(session, c, format_override(format), tool_options_of(c, p), params, result);
  });
}

}  // extern "C"
