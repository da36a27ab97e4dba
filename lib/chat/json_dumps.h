// JSON text exactly as Python's json.dumps(value, ensure_ascii=False) writes
// it, which is what the chat templates' `tojson` filter produces under
// Hugging Face transformers (it replaces Jinja's HTML-escaping filter with a
// plain json.dumps). The rendered prompt must match those bytes exactly.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ernie {

// Separators ", " and ": ", keys in the value's own order, non-ASCII kept as
// UTF-8, escapes \" \\ \n \r \t \b \f and \u00XX for other control
// characters, floats as Python's repr (1.0, 0.1, 1e-07, 1e+16, Infinity,
// NaN). Throws ernie::Error(ERNIE_E_INVALID_ARGUMENT) on a string that is
// not valid UTF-8, a binary value, or nesting deeper than 512 levels.
std::string json_dumps(const nlohmann::ordered_json& value);
void json_dumps_append(std::string& out, const nlohmann::ordered_json& value);

// Python's repr(float): the shortest text that reads back as the same double,
// in fixed notation for exponents -4..15 and scientific otherwise.
std::string python_float_repr(double value);

}  // namespace ernie
