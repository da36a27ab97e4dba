// json_dumps must write the bytes Python's json.dumps(x, ensure_ascii=False)
// writes (expected values below were produced by CPython 3.11).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "chat/json_dumps.h"
#include "util/error.h"

using Json = nlohmann::ordered_json;

TEST_CASE("python_float_repr matches Python's repr") {
  struct Case {
    double value;
    const char* repr;
  };
  const Case cases[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1.0, "1.0"},
      {0.1, "0.1"},
      {0.5, "0.5"},
      {1e-07, "1e-07"},
      {1e+16, "1e+16"},
      {1000000000000000.0, "1000000000000000.0"},
      {1234567890123456.0, "1234567890123456.0"},
      {1.2345678901234568e+16, "1.2345678901234568e+16"},
      {0.0001, "0.0001"},
      {1e-05, "1e-05"},
      {1.5e-05, "1.5e-05"},
      {123.456, "123.456"},
      {1.0 / 3, "0.3333333333333333"},
      {2.0 / 3, "0.6666666666666666"},
      {1e+22, "1e+22"},
      {1e+23, "1e+23"},
      {5e-324, "5e-324"},
      {1.7976931348623157e+308, "1.7976931348623157e+308"},
      {-2.5, "-2.5"},
      {100.0, "100.0"},
      {1e+100, "1e+100"},
      {9007199254740992.0, "9007199254740992.0"},
      {0.3, "0.3"},
      {1e-10, "1e-10"},
      {123456789.123, "123456789.123"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
      {std::nan(""), "NaN"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.repr);
    CHECK(ernie::python_float_repr(c.value) == c.repr);
  }
}

TEST_CASE("json_dumps: separators, key order, escapes, non-ASCII") {
  Json v = Json::parse(
      "{\"a\": [1, 2.0, null, true, false, \"x\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f é中😀 "
      "<>&'/\"],"
      " \"\": {}, \"e\": []}");
  CHECK(ernie::json_dumps(v) ==
        "{\"a\": [1, 2.0, null, true, false, \"x\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f é中😀 "
        "<>&'/\"],"
        " \"\": {}, \"e\": []}");
  // Keys keep the caller's order, not sorted.
  CHECK(ernie::json_dumps(Json::parse(R"({"z":1,"a":2,"m":3})")) == R"({"z": 1, "a": 2, "m": 3})");
  CHECK(ernie::json_dumps(Json::parse("[-5, 18446744073709551615, -9223372036854775808, 1e5]")) ==
        "[-5, 18446744073709551615, -9223372036854775808, 100000.0]");
  CHECK(ernie::json_dumps(Json("")) == "\"\"");
  CHECK(ernie::json_dumps(Json::array()) == "[]");
  CHECK(ernie::json_dumps(Json::object()) == "{}");
}

TEST_CASE("json_dumps: refuses what Python could not have written") {
  auto status_of = [](const Json& v) {
    try {
      ernie::json_dumps(v);
    } catch (const ernie::Error& e) {
      return e.status();
    }
    return ERNIE_OK;
  };
  CHECK(status_of(Json("bad \xff byte")) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(status_of(Json{{"\xc3", 1}}) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(status_of(Json::binary({1, 2})) == ERNIE_E_INVALID_ARGUMENT);
  Json deep = Json::array();
  for (int i = 0; i < 600; ++i) deep = Json::array({deep});
  CHECK(status_of(deep) == ERNIE_E_INVALID_ARGUMENT);
}
