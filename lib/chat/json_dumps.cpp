#include "chat/json_dumps.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "util/error.h"
#include "util/utf8.h"

namespace ernie {
namespace {

using Json = nlohmann::ordered_json;

// Far beyond any real tool schema; keeps the recursion bounded for values
// built in code rather than by the depth-limited parser.
constexpr size_t kMaxDepth = 512;

void append_string(std::string& out, std::string_view s) {
  size_t bad = 0;
  ERNIE_CHECK(utf8_valid(s, &bad), ERNIE_E_INVALID_ARGUMENT,
              "JSON string is not valid UTF-8 (bad byte at offset %zu)", bad);
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void append_value(std::string& out, const Json& v, size_t depth) {
  ERNIE_CHECK(depth <= kMaxDepth, ERNIE_E_INVALID_ARGUMENT, "JSON nested deeper than %zu levels",
              kMaxDepth);
  switch (v.type()) {
    case Json::value_t::null: out += "null"; break;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case Json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); break;
    case Json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); break;
    case Json::value_t::number_float: out += python_float_repr(v.get<double>()); break;
    case Json::value_t::string: append_string(out, v.get_ref<const std::string&>()); break;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ", ";
        first = false;
        append_value(out, item, depth + 1);
      }
      out += ']';
      break;
    }
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out += ", ";
        first = false;
        append_string(out, key);
        out += ": ";
        append_value(out, item, depth + 1);
      }
      out += '}';
      break;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      ERNIE_FAIL(ERNIE_E_INVALID_ARGUMENT, "JSON value of type '%s' cannot be written as text",
                 v.type_name());
  }
}

}  // namespace

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-Infinity" : "Infinity";

  // Shortest round-trip digits in scientific form: "-d.ddde+XX".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  size_t e_pos = sci.find('e');
  bool negative = sci.front() == '-';
  std::string digits;
  for (char c : sci.substr(0, e_pos))
    if (c >= '0' && c <= '9') digits += c;
  int exponent = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());

  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    // Fixed notation, always with a fractional part.
    int point = exponent + 1;  // digits before the decimal point
    int n = static_cast<int>(digits.size());
    if (point <= 0) {
      out += "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (point >= n) {
      out += digits + std::string(static_cast<size_t>(point - n), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(point)) + "." +
             digits.substr(static_cast<size_t>(point));
    }
  } else {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    int mag = std::abs(exponent);
    if (mag < 10) out += '0';
    out += std::to_string(mag);
  }
  return out;
}

void json_dumps_append(std::string& out, const Json& value) { append_value(out, value, 0); }

std::string json_dumps(const Json& value) {
  std::string out;
  json_dumps_append(out, value);
  return out;
}

}  // namespace ernie
