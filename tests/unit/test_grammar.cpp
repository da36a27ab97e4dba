// JSON-Schema constrained decoding: the schema compiler, the byte matcher,
// the token filter, and a property test — random schemas, random choices
// among the allowed tokens of a mixed vocabulary: every output parses and
// validates, and there is always an allowed token before completion.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "grammar/json_matcher.h"
#include "grammar/json_schema.h"
#include "grammar/token_filter.h"
#include "util/error.h"

using namespace ernie;
using Json = nlohmann::ordered_json;

namespace {

std::shared_ptr<const JsonSchema> compile(const std::string& text) {
  return std::make_shared<const JsonSchema>(Json::parse(text));
}

bool accepts(const std::string& schema, const std::string& text, bool complete = true) {
  JsonMatcher m(compile(schema));
  return m.accept(text) && (!complete || m.is_complete());
}

std::string schema_error(const std::string& text) {
  try {
    JsonSchema s(Json::parse(text));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A vocabulary mixing single bytes, JSON fragments, words and split UTF-8.
std::vector<std::string> test_vocabulary() {
  std::vector<std::string> v = {""};  // a special token: never allowed
  for (int c = 0x20; c < 0x7f; ++c) v.emplace_back(1, static_cast<char>(c));
  for (const char* s : {"{\"", "\": ", "\", \"", ", ", ": ", "\"}", "}}", "]}", "[\"", "\"]", "true", "false",
                        "null", "12", "345", "-7", "0.5", "e+10", "name", "city", " Paris", "\\n", "\\\"",
                        "\\u00e9", "é", "\xC3", "\xA9", "🌍", "\xF0\x9F", "\x8C\x8D", "数字", "\n", "\t"}) {
    v.emplace_back(s);
  }
  return v;
}

// Random schema over the supported features.
Json random_schema(std::mt19937_64& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  int kind = depth >= 3 ? 2 + pick(7) : pick(10);
  switch (kind) {
    case 0: case 1: {
      Json props = Json::object(), req = Json::array();
      int n = 1 + pick(3);
      for (int i = 0; i < n; ++i) {
        std::string name = std::string("p") + std::to_string(i) + (pick(4) == 0 ? "é" : "");
        props[name] = random_schema(rng, depth + 1);
        if (pick(2)) req.push_back(name);
      }
      Json o = {{"type", "object"}, {"properties", props}, {"required", req}};
      if (pick(2)) o["additionalProperties"] = false;
      return o;
    }
    case 2: {
      Json a = {{"type", "array"}, {"items", random_schema(rng, depth + 1)}};
      if (pick(2)) a["minItems"] = pick(2);
      if (pick(2)) a["maxItems"] = 1 + pick(3);
      return a;
    }
    case 3: {
      Json s = {{"type", "string"}};
      if (pick(2)) s["minLength"] = pick(3);
      if (pick(2)) s["maxLength"] = 3 + pick(5);
      return s;
    }
    case 4: {
      Json i = {{"type", "integer"}};
      if (pick(2)) i["minimum"] = pick(20) - 10;
      if (pick(2)) i["maximum"] = 10 + pick(200);
      return i;
    }
    case 5: {
      Json n = {{"type", "number"}};
      if (pick(3) == 0) n["minimum"] = 0.5;
      return n;
    }
    case 6: return pick(2) ? Json{{"type", "boolean"}} : Json{{"type", "null"}};
    case 7: return Json{{"enum", Json::array({"red", "green", 1, 10, nullptr})}};
    case 8: return Json{{"anyOf", Json::array({random_schema(rng, depth + 1), random_schema(rng, depth + 1)})}};
    default: return pick(2) ? Json::object() : Json{{"type", Json::array({"string", "integer"})}};
  }
}

}  // namespace

TEST_CASE("grammar: schema compile errors name the place") {
  CHECK(schema_error(R"({"type": "object", "patternProperties": {}})").find("patternProperties") != std::string::npos);
  CHECK(schema_error(R"({"type": "potato"})").find("unknown type") != std::string::npos);
  CHECK(schema_error(R"({"properties": {"a": {"type": 3}}})").find("/properties/a") != std::string::npos);
  CHECK(schema_error(R"({"type": "object", "properties": {}, "required": ["x"]})").find("'x'") != std::string::npos);
  CHECK(schema_error(R"({"type": "integer", "minimum": 0.2, "maximum": 0.8})").find("no integer") != std::string::npos);
  std::string deep = "{}";
  for (int i = 0; i < 40; ++i) deep = R"({"type": "array", "items": )" + deep + "}";
  CHECK(schema_error(deep).find("deeper") != std::string::npos);
  CHECK(schema_error(R"({"description": "x", "title": "t", "type": "string"})").empty());
}

TEST_CASE("grammar: the matcher follows json.dumps spacing, schema order and the constraints") {
  const std::string obj = R"({"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 14}, "unit": {"enum": ["c", "f"]}}, "required": ["city"]})";
  CHECK(accepts(obj, R"({"city": "Paris"})"));
  CHECK(accepts(obj, R"({"city": "Paris", "days": 3, "unit": "f"})"));
  CHECK(accepts(obj, R"({"city": "Oslo", "unit": "c"})"));
  CHECK(!accepts(obj, R"({"days": 3})", false));                 // required first
  CHECK(!accepts(obj, R"({"city":"Paris"})", false));             // spacing
  CHECK(!accepts(obj, R"({"city": "Paris", "days": 15})", false));  // range
  CHECK(!accepts(obj, R"({"city": "Paris", "days": 0)", false));
  CHECK(!accepts(obj, R"({"city": "Paris", "unit": "k")", false));
  CHECK(!accepts(obj, R"({"city": "Paris"} )", false));            // nothing after the value
  CHECK(accepts(R"({"type": "array", "items": {"type": "number"}, "maxItems": 2})", "[1.5, -2e+3]"));
  CHECK(!accepts(R"({"type": "array", "items": {"type": "number"}, "maxItems": 2})", "[1, 2, 3]", false));
  CHECK(accepts(R"({"type": "string", "maxLength": 3})", "\"é\\n🌍\""));
  CHECK(!accepts(R"({"type": "string", "maxLength": 3})", "\"abcd\"", false));
  CHECK(!accepts(R"({"type": "string"})", "\"\xC3\x28\"", false));  // invalid UTF-8
  CHECK(!accepts(R"({"type": "string"})", "\"\\ud800\"", false));    // no surrogates
  CHECK(accepts(R"({"enum": [1, 10]})", "10"));
  CHECK(accepts(R"({})", R"({"a": [1, {"b": null}], "c": "x"})"));
  CHECK(accepts(R"({"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "boolean"}}]})", "[true, false]"));
}

TEST_CASE("grammar: property test — random schemas, random allowed tokens, valid results") {
  const auto vocab = test_vocabulary();
  TokenFilter filter(vocab);
  std::mt19937_64 rng(20261128);
  int produced = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    Json schema_json = random_schema(rng, 0);
    CAPTURE(schema_json.dump());
    auto schema = std::make_shared<const JsonSchema>(schema_json);
    JsonMatcher m(schema);
    std::string out;
    std::vector<uint8_t> allowed;
    bool complete = false;
    for (int step = 0; step < 3000 && !complete; ++step) {
      filter.allowed(m, allowed);
      std::vector<int32_t> ids;
      for (size_t i = 0; i < allowed.size(); ++i) {
        if (allowed[i]) ids.push_back(static_cast<int32_t>(i));
      }
      CAPTURE(out);
      REQUIRE_MESSAGE(!ids.empty(), "dead end");
      CHECK(!allowed[0]);  // the special token
      // Early on explore at random; later prefer tokens that close things.
      int32_t pick = ids[rng() % ids.size()];
      if (step > 40) {
        bool found = false;
        for (const char* closer : {"\"", "}", "]", "1", "0", "true", "null"}) {
          for (int32_t id : ids) {
            if (!found && vocab[static_cast<size_t>(id)] == closer) {
              pick = id;
              found = true;
            }
          }
        }
      }
      REQUIRE(m.accept(vocab[static_cast<size_t>(pick)]));
      out += vocab[static_cast<size_t>(pick)];
      // A value that may end here ends with probability 1/3 (or when forced).
      if (m.is_complete()) {
        filter.allowed(m, allowed);
        bool more = false;
        for (uint8_t a : allowed) more |= a != 0;
        complete = !more || rng() % 3 == 0;
      }
    }
    REQUIRE_MESSAGE(complete, "no completion within the step bound: " << out);
    Json value;
    REQUIRE_NOTHROW(value = Json::parse(out));
    CHECK_NOTHROW(schema->validate(value));
    ++produced;
  }
  CHECK(produced == 2000);
}

TEST_CASE("grammar: validation reports the path") {
  JsonSchema s(Json::parse(R"({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}}}, "required": ["a"], "additionalProperties": false})"));
  auto err = [&](const char* v) {
    try {
      s.validate(Json::parse(v));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(err(R"({"a": [1, 2]})").empty());
  CHECK(err(R"({"a": [1, "x"]})").find("/a/1: expected an integer") != std::string::npos);
  CHECK(err(R"({})").find("missing required property 'a'") != std::string::npos);
  CHECK(err(R"({"a": [], "b": 1})").find("unexpected property 'b'") != std::string::npos);
}

TEST_CASE("grammar: mask cost at the real vocabulary size (measured, printed)") {
  // 103,424 tokens: the test vocabulary plus generated 2-7 byte words.
  std::vector<std::string> vocab = test_vocabulary();
  std::mt19937_64 rng(1);
  const std::string letters = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,";
  while (vocab.size() < 103424) {
    std::string w;
    const size_t len = 2 + rng() % 6;
    for (size_t i = 0; i < len; ++i) w += letters[rng() % letters.size()];
    vocab.push_back(w);
  }
  TokenFilter filter(vocab);
  auto schema = compile(R"({"type": "object", "properties": {"location": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 14}}, "required": ["location"]})");
  JsonMatcher m(schema);
  std::vector<uint8_t> allowed;
  double worst = 0, total = 0;
  std::string per_step;
  const char* steps[] = {"{\"", "location", "\": ", "\"Par", "is", "\", ", "\"days", "\": ", "1"};
  for (const char* s : steps) {
    auto t0 = std::chrono::steady_clock::now();
    filter.allowed(m, allowed);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    worst = std::max(worst, ms);
    total += ms;
    per_step += " " + std::to_string(static_cast<int>(ms * 10) / 10.0).substr(0, 5);
    REQUIRE(m.accept(s));
  }
  MESSAGE("token mask over 103,424 tokens: mean " << total / 9 << " ms, worst " << worst
                                                 << " ms per step; each step (ms):" << per_step);
}
