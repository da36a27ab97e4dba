// A JSON Schema compiled for two jobs: validating a parsed value, and
// driving the byte-level matcher that constrains generation (matcher.h).
// Supported (docs/grammar.md): type (one or a list), properties, required,
// additionalProperties, enum, const, items, minItems/maxItems,
// minLength/maxLength, minimum/maximum, anyOf/oneOf, nesting.
// Annotations (description, title, default, examples, $schema) are ignored;
// any other keyword is refused, never silently dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ernie {

struct SchemaNode {
  enum class Kind { Any, Object, Array, String, Number, Integer, Boolean, Null, Literals, AnyOf };
  Kind kind = Kind::Any;
  // Object: properties in schema order, which generation follows.
  std::vector<std::pair<std::string, int>> properties;  // name, node index
  std::vector<bool> required;                           // per property
  bool additional_allowed = true;                       // validation only
  // Array
  int items = -1;  // node index; -1: any value
  int64_t min_items = 0, max_items = -1;
  // String
  int64_t min_length = 0, max_length = -1;  // in code points
  // Integer and Number. Validation uses the exact bounds; generation emits a
  // bounded number as an integer in [ceil(minimum), floor(maximum)].
  std::optional<double> minimum, maximum;
  bool bounded() const { return minimum.has_value() || maximum.has_value(); }
  // Literals (enum / const): each value's JSON text as generation writes it.
  std::vector<nlohmann::ordered_json> literals;
  std::vector<std::string> literal_texts;
  // AnyOf
  std::vector<int> options;
};

class JsonSchema {
 public:
  // Throws ernie::Error(ERNIE_E_INVALID_ARGUMENT, "schema: <path>: ...").
  explicit JsonSchema(const nlohmann::ordered_json& schema);

  const SchemaNode& node(int i) const { return nodes_[static_cast<size_t>(i)]; }
  int root() const { return 0; }

  // Throws ernie::Error(ERNIE_E_INVALID_ARGUMENT, "<what>: <path>: <problem>").
  void validate(const nlohmann::ordered_json& value, const char* what = "arguments") const;

 private:
  int compile(const nlohmann::ordered_json& s, const std::string& path, int depth);
  void check(const nlohmann::ordered_json& v, int node, const std::string& path, const char* what) const;
  std::vector<SchemaNode> nodes_;
};

}  // namespace ernie
