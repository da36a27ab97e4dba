// The one JSON entry point of the library: every document read from a file
// (config.json, tokenizer_config.json, safetensors headers, packed metadata)
// goes through parse_json, which turns any malformed or hostile input into
// ernie::Error instead of an exception of the JSON library, a crash or a hang.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ernie {

// Parses `text` as one JSON value, keeping object keys in document order (a
// repeated key keeps its first position and its last value, as the JSON
// library does). Throws ernie::Error(ERNIE_E_INVALID_MODEL) with messages
// starting "<what>: ": "invalid JSON at byte N: ..." for malformed text, and
// "JSON nested deeper than <max_depth> levels" for deeper arrays/objects,
// refused before anything deeper is built. Objects with many keys cost
// linear time (no quadratic key lookups).
nlohmann::ordered_json parse_json(std::string_view text, const char* what, size_t max_depth = 64);

}  // namespace ernie
