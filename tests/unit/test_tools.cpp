// Tool calling end to end on the tiny thinking-format model: calls forced
// through the schema-constrained sampler (tool_choice required/named), the
// manual, automatic and deferred modes, tool_choice none, and a property
// check that arguments always parse and validate.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ernie.h"
#include "grammar/json_schema.h"
#include "support/test_util.h"

namespace {

const char* kWeatherSchema =
    R"({"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["c", "f"]}}, "required": ["city"]})";
const char* kCalcSchema =
    R"({"type": "object", "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 99}, "b": {"type": "integer"}}, "required": ["a", "b"]})";

struct Fixture {
  ernie_model* model = nullptr;
  ernie_session* session = nullptr;
  ernie_tool tools[2];
  Fixture() {
    REQUIRE(ernie_model_load(test::packed_golden("tiny-moe-b").c_str(), nullptr, &model) == ERNIE_OK);
    REQUIRE(ernie_session_create(model, nullptr, &session) == ERNIE_OK);
    tools[0] = {sizeof(ernie_tool), "get_weather", "Current weather for a city", kWeatherSchema};
    tools[1] = {sizeof(ernie_tool), "add", "Adds two integers", kCalcSchema};
  }
  ~Fixture() {
    ernie_session_free(session);
    ernie_model_free(model);
  }
  ernie_chat_params chat(int32_t choice, const char* name = nullptr) {
    ernie_chat_params cp;
    ernie_chat_params_init(&cp);
    cp.tools = tools;
    cp.n_tools = 2;
    cp.tool_choice = choice;
    cp.tool_choice_name = name;
    cp.parallel_tool_calls = 0;
    return cp;
  }
};

ernie_message user(const char* text) { return {sizeof(ernie_message), "user", text, nullptr, nullptr, 0, nullptr}; }

void check_valid(const ernie_tool_call& call) {
  const std::string name = call.name;
  REQUIRE((name == "get_weather" || name == "add"));
  ernie::JsonSchema schema(nlohmann::ordered_json::parse(name == "add" ? kCalcSchema : kWeatherSchema));
  auto args = nlohmann::ordered_json::parse(call.arguments_json);
  CHECK_NOTHROW(schema.validate(args));
}

struct Recorder {
  std::vector<std::string> calls;
  int events = 0;
  bool defer = false;
};

int32_t record_event(void* ud, const ernie_event* e) {
  if (e->type == ERNIE_EVENT_TOOL_CALL) static_cast<Recorder*>(ud)->events++;
  return 0;
}

int32_t run_tool(void* ud, const ernie_tool_call* call, ernie_tool_output* out) {
  auto* r = static_cast<Recorder*>(ud);
  check_valid(*call);
  r->calls.push_back(std::string(call->name) + " " + call->arguments_json);
  if (r->defer) return ERNIE_TOOL_DEFER;
  const char* result = "{\"temp\": 20}";
  REQUIRE(ernie_tool_output_set(out, result, std::strlen(result)) == ERNIE_OK);
  return ERNIE_TOOL_RESULT;
}

}  // namespace

TEST_CASE("tools: manual mode reports a required call whose arguments validate") {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    CAPTURE(seed);
    Fixture f;
    ernie_message m = user("Weather in Paris?");
    ernie_chat_params cp = f.chat(ERNIE_TOOL_CHOICE_REQUIRED);
    ernie_sampling_params sp;
    ernie_sampling_params_init(&sp);
    sp.temperature = 1.0f;
    sp.seed = seed;
    ernie_generate_params gp;
    ernie_generate_params_init(&gp);
    gp.sampling = &sp;
    gp.max_tokens = 200;
    gp.reasoning = ERNIE_REASONING_OFF;
    Recorder rec;
    gp.on_event = record_event;
    gp.user_data = &rec;
    ernie_generate_result r{};
    r.struct_size = sizeof(r);
    REQUIRE_MESSAGE(ernie_session_chat(f.session, &m, 1, &cp, &gp, &r) == ERNIE_OK, ernie_last_error());
    CHECK(r.finish_reason == ERNIE_FINISH_TOOL_CALLS);
    REQUIRE(r.n_tool_calls == 1);
    check_valid(r.tool_calls[0]);
    CHECK(std::string(r.tool_calls[0].id).rfind("call_", 0) == 0);
    CHECK(rec.events == 1);
    auto added = nlohmann::json::parse(r.messages_json);
    REQUIRE(added.size() == 1);
    CHECK(added[0]["tool_calls"].size() == 1);
  }
}

TEST_CASE("tools: automatic mode runs the tool, appends its result and continues") {
  Fixture f;
  ernie_message m = user("Add 2 and 3");
  ernie_chat_params cp = f.chat(ERNIE_TOOL_CHOICE_NAMED, "add");
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.max_tokens = 300;  // per round: forced call JSON is ~1 token per byte in the tiny vocabulary
  gp.reasoning_budget = 4;
  Recorder rec;
  gp.on_tool_call = run_tool;
  gp.tool_user_data = &rec;
  ernie_generate_result r{};
  r.struct_size = sizeof(r);
  REQUIRE_MESSAGE(ernie_session_chat(f.session, &m, 1, &cp, &gp, &r) == ERNIE_OK, ernie_last_error());
  INFO("finish " << r.finish_reason << " messages " << std::string(r.messages_json) << " reasoning " << std::string(r.reasoning));
  REQUIRE(rec.calls.size() >= 1);
  CHECK(rec.calls[0].rfind("add ", 0) == 0);
  auto added = nlohmann::json::parse(r.messages_json);
  REQUIRE(added.size() >= 3);  // assistant (call), tool (result), assistant (answer)
  CHECK(added[0]["tool_calls"][0]["function"]["name"] == "add");
  CHECK(added[1]["role"] == "tool");
  CHECK(added[1]["content"] == "{\"temp\": 20}");
  CHECK(added[1]["tool_call_id"] == added[0]["tool_calls"][0]["id"]);
  CHECK(added.back()["role"] == "assistant");
  CHECK(r.finish_reason != ERNIE_FINISH_ERROR);
}

TEST_CASE("tools: deferred calls stop generation, results come back as tool messages") {
  Fixture f;
  ernie_message m = user("Weather in Oslo?");
  ernie_chat_params cp = f.chat(ERNIE_TOOL_CHOICE_NAMED, "get_weather");
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.max_tokens = 60;
  gp.reasoning = ERNIE_REASONING_OFF;
  Recorder rec;
  rec.defer = true;
  gp.on_tool_call = run_tool;
  gp.tool_user_data = &rec;
  ernie_generate_result r{};
  r.struct_size = sizeof(r);
  REQUIRE(ernie_session_chat(f.session, &m, 1, &cp, &gp, &r) == ERNIE_OK);
  CHECK(r.finish_reason == ERNIE_FINISH_TOOL_CALLS);
  REQUIRE(r.n_tool_calls == 1);
  const std::string id = r.tool_calls[0].id, args = r.tool_calls[0].arguments_json;
  const int32_t first_prompt = r.n_prompt_tokens;
  // The application ran the tool elsewhere; the next turn carries its result.
  ernie_tool_call call{sizeof(ernie_tool_call), id.c_str(), "get_weather", args.c_str()};
  ernie_message turn[3] = {m, {sizeof(ernie_message), "assistant", "", nullptr, &call, 1, nullptr},
                           {sizeof(ernie_message), "tool", "{\"temp\": -3}", nullptr, nullptr, 0, id.c_str()}};
  ernie_chat_params cp2 = f.chat(ERNIE_TOOL_CHOICE_AUTO);
  gp.on_tool_call = nullptr;
  gp.max_tokens = 8;
  ernie_generate_result r2{};
  r2.struct_size = sizeof(r2);
  REQUIRE(ernie_session_chat(f.session, turn, 3, &cp2, &gp, &r2) == ERNIE_OK);
  // The earlier turn's cache is reused up to the assistant turn, which the
  // template renders without the "<think>\n</think>\n\n" generation prefix.
  CHECK(r2.n_cached_tokens >= first_prompt - 8);
}

TEST_CASE("tools: tool_choice none never starts a call") {
  Fixture f;
  ernie_message m = user("Weather?");
  ernie_chat_params cp = f.chat(ERNIE_TOOL_CHOICE_NONE);
  int32_t ids[4];
  size_t n = 0;
  REQUIRE(ernie_tokenize(f.model, "<tool_call>", 11, ERNIE_TOKENIZE_PARSE_SPECIAL, ids, 4, &n) == ERNIE_OK);
  REQUIRE(n == 2);
  ernie_sampling_params sp;
  ernie_sampling_params_init(&sp);
  float push = 50.0f;  // make the model want to call, strongly
  sp.logit_bias_tokens = &ids[1];
  sp.logit_bias_values = &push;
  sp.n_logit_bias = 1;
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.sampling = &sp;
  gp.max_tokens = 20;
  gp.reasoning = ERNIE_REASONING_OFF;
  ernie_generate_result r{};
  r.struct_size = sizeof(r);
  REQUIRE(ernie_session_chat(f.session, &m, 1, &cp, &gp, &r) == ERNIE_OK);
  for (size_t i = 0; i < r.n_tokens; ++i) CHECK(r.tokens[i] != ids[1]);
  CHECK(r.n_tool_calls == 0);
}

TEST_CASE("tools: bad tool definitions and choices are refused") {
  Fixture f;
  ernie_message m = user("x");
  ernie_chat_params cp = f.chat(ERNIE_TOOL_CHOICE_NAMED, "nope");
  CHECK(ernie_session_chat(f.session, &m, 1, &cp, nullptr, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(std::string(ernie_last_error()).find("nope") != std::string::npos);
  cp = f.chat(ERNIE_TOOL_CHOICE_REQUIRED);
  f.tools[1].parameters_json = R"({"type": "object", "patternProperties": {}})";
  CHECK(ernie_session_chat(f.session, &m, 1, &cp, nullptr, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(std::string(ernie_last_error()).find("patternProperties") != std::string::npos);
  cp = f.chat(77);
  CHECK(ernie_session_chat(f.session, &m, 1, &cp, nullptr, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  char out[1];
  (void)out;
  CHECK(ernie_tool_output_set(nullptr, "x", 1) == ERNIE_E_INVALID_ARGUMENT);
}
