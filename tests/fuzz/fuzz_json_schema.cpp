// The JSON-Schema compiler, validator and generation matcher on arbitrary
// input "<schema JSON>\0<value text>". Oracle: a text the matcher accepts as a
// complete value is one generation may produce, so it must parse and
// validate against the same schema.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_support.h"
#include "grammar/json_matcher.h"
#include "grammar/json_schema.h"
#include "util/error.h"
#include "util/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [schema_text, value_text] = fuzz::split_once(std::string_view(reinterpret_cast<const char*>(data), size), '\0');
  std::shared_ptr<const ernie::JsonSchema> schema;
  try {
    schema = std::make_shared<ernie::JsonSchema>(ernie::parse_json(schema_text, "schema"));
  } catch (const ernie::Error&) {
    return 0;
  }
  bool valid = false;
  try {
    schema->validate(ernie::parse_json(value_text, "value"));
    valid = true;
  } catch (const ernie::Error&) {
  }

  ernie::JsonMatcher matcher(schema);
  size_t accepted = 0;
  while (accepted < value_text.size() && matcher.accept_byte(static_cast<uint8_t>(value_text[accepted]))) ++accepted;
  if (accepted == value_text.size() && matcher.is_complete() && !valid) {
    std::fprintf(stderr, "the matcher accepts a value the schema refuses\n");
    std::abort();
  }
  return 0;
}
