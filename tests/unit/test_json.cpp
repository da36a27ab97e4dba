#include <doctest/doctest.h>

#include <string>

#include "util/error.h"
#include "util/json.h"

using namespace ernie;

namespace {

// The status and message parse_json throws for `text`.
std::pair<ernie_status, std::string> json_error(const std::string& text, size_t max_depth = 64) {
  try {
    parse_json(text, "doc.json", max_depth);
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
  return {ERNIE_OK, ""};
}

}  // namespace

TEST_CASE("parse_json: values, key order, repeated keys") {
  auto j = parse_json(R"({"b": 1, "a": [true, null, 2.5, "x"], "c": {"z": -3, "y": 18446744073709551615}})", "t");
  REQUIRE(j.is_object());
  std::string keys;
  for (auto& [k, v] : j.items()) keys += k;
  CHECK(keys == "bac");
  CHECK(j["a"][2].get<double>() == 2.5);
  CHECK(j["c"]["z"].get<int>() == -3);
  CHECK(j["c"]["y"].get<uint64_t>() == 18446744073709551615ull);
  // A repeated key keeps its first position and its last value.
  auto d = parse_json(R"({"k": 1, "m": 2, "k": 3})", "t");
  CHECK(d.size() == 2);
  CHECK(d.begin().key() == "k");
  CHECK(d["k"] == 3);
  CHECK(parse_json("  42 ", "t") == 42);
  CHECK(parse_json(R"("caf\u00e9 ✓")", "t").get<std::string>() == "café ✓");
}

TEST_CASE("parse_json: malformed text is ERNIE_E_INVALID_MODEL with the byte offset") {
  auto [status, message] = json_error(R"({"a": 1,, "b": 2})");
  CHECK(status == ERNIE_E_INVALID_MODEL);
  CHECK(message.find("doc.json: invalid JSON at byte 8") != std::string::npos);
  for (const char* bad : {"", "{", "[1, 2", "{\"a\" 1}", "nul", "\"unterminated", "{} trailing", "\x01\x02\xff",
                          "[1e400]", "\"bad utf8 \xc3\x28\"", "{\"a\": 01}", "[NaN]"}) {
    auto [s, m] = json_error(bad);
    CHECK_MESSAGE(s == ERNIE_E_INVALID_MODEL, bad);
    CHECK_MESSAGE(m.find("doc.json: invalid JSON at byte") != std::string::npos, m);
  }
}

TEST_CASE("parse_json: nesting deeper than the limit is refused") {
  CHECK_NOTHROW(parse_json(std::string(64, '[') + std::string(64, ']'), "t"));
  auto [status, message] = json_error(std::string(65, '[') + std::string(65, ']'));
  CHECK(status == ERNIE_E_INVALID_MODEL);
  CHECK(message.find("doc.json: JSON nested deeper than 64 levels") != std::string::npos);
  // Hostile: a million open brackets (no stack overflow, no huge allocation).
  auto [s2, m2] = json_error(std::string(1000000, '['));
  CHECK(s2 == ERNIE_E_INVALID_MODEL);
  CHECK(m2.find("nested deeper") != std::string::npos);
  auto [s3, m3] = json_error(R"({"a": {"b": [1]}})", 2);
  CHECK(m3.find("deeper than 2") != std::string::npos);
  // Brackets inside strings do not count.
  CHECK_NOTHROW(parse_json("[\"" + std::string(1000, '[') + "\"]", "t"));
}

TEST_CASE("parse_json: an object with very many keys parses in linear time") {
  std::string text = "{";
  for (int i = 0; i < 200000; ++i) text += (i ? ",\"" : "\"") + std::to_string(i) + "\":" + std::to_string(i);
  text += ",\"7\":-1}";
  auto j = parse_json(text, "t");
  CHECK(j.size() == 200000);
  CHECK(j.begin().key() == "0");
  auto it = j.begin();
  std::advance(it, 7);
  CHECK(it.key() == "7");
  CHECK(it.value() == -1);
}
