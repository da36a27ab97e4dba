#include "grammar/json_schema.h"

#include <cmath>

#include "chat/json_dumps.h"
#include "util/error.h"
#include "util/utf8.h"

namespace ernie {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxDepth = 32;
constexpr size_t kMaxNodes = 4096;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  ERNIE_FAIL(ERNIE_E_INVALID_ARGUMENT, "schema: %s: %s", path.empty() ? "/" : path.c_str(), what.c_str());
}

bool is_annotation(const std::string& k) {
  return k == "description" || k == "title" || k == "default" || k == "examples" || k == "$schema" ||
         k == "$comment" || k == "$id";
}

int64_t nonneg_int(const Json& v, const std::string& path, const char* key) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0) bad(path, std::string(key) + " must be a non-negative integer");
  return v.get<int64_t>();
}

SchemaNode::Kind kind_of(const std::string& type, const std::string& path) {
  using K = SchemaNode::Kind;
  if (type == "object") return K::Object;
  if (type == "array") return K::Array;
  if (type == "string") return K::String;
  if (type == "number") return K::Number;
  if (type == "integer") return K::Integer;
  if (type == "boolean") return K::Boolean;
  if (type == "null") return K::Null;
  bad(path, "unknown type '" + type + "'");
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

JsonSchema::JsonSchema(const Json& schema) { compile(schema, "", 0); }

int JsonSchema::compile(const Json& s, const std::string& path, int depth) {
  if (depth > kMaxDepth) bad(path, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
  if (nodes_.size() >= kMaxNodes) bad(path, "more than " + std::to_string(kMaxNodes) + " schema nodes");
  const int index = static_cast<int>(nodes_.size());
  nodes_.emplace_back();
  if (s.is_boolean() && s.get<bool>()) return index;  // true: anything
  if (!s.is_object()) bad(path, "a schema must be an object");
  using K = SchemaNode::Kind;

  // Several types: an anyOf of one schema per type.
  auto type = s.find("type");
  if (type != s.end() && type->is_array()) {
    if (type->empty()) bad(path, "type list is empty");
    std::vector<int> options;
    for (const auto& t : *type) {
      if (!t.is_string()) bad(path, "type must be a string or a list of strings");
      Json single = s;
      single["type"] = t;
      options.push_back(compile(single, path, depth + 1));
    }
    nodes_[static_cast<size_t>(index)].kind = K::AnyOf;
    nodes_[static_cast<size_t>(index)].options = std::move(options);
    return index;
  }

  SchemaNode n;
  if (type != s.end()) {
    if (!type->is_string()) bad(path, "type must be a string or a list of strings");
    n.kind = kind_of(type->get<std::string>(), path);
  }
  for (auto it = s.begin(); it != s.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    const std::string sub = path + "/" + k;
    if (k == "type" || is_annotation(k)) continue;
    if (k == "properties") {
      if (!v.is_object()) bad(sub, "must be an object");
      for (auto p = v.begin(); p != v.end(); ++p) {
        int child = compile(p.value(), sub + "/" + p.key(), depth + 1);
        n.properties.emplace_back(p.key(), child);
      }
      if (type == s.end()) n.kind = K::Object;
    } else if (k == "required") {
      if (!v.is_array()) bad(sub, "must be a list of property names");
    } else if (k == "additionalProperties") {
      if (!v.is_boolean()) bad(sub, "only true or false is supported");
      n.additional_allowed = v.get<bool>();
    } else if (k == "items") {
      n.items = compile(v, sub, depth + 1);
      if (type == s.end()) n.kind = K::Array;
    } else if (k == "minItems") {
      n.min_items = nonneg_int(v, sub, "minItems");
    } else if (k == "maxItems") {
      n.max_items = nonneg_int(v, sub, "maxItems");
    } else if (k == "minLength") {
      n.min_length = nonneg_int(v, sub, "minLength");
    } else if (k == "maxLength") {
      n.max_length = nonneg_int(v, sub, "maxLength");
    } else if (k == "minimum" || k == "maximum") {
      if (!v.is_number() || !std::isfinite(v.get<double>())) bad(sub, "must be a finite number");
      (k == "minimum" ? n.minimum : n.maximum) = v.get<double>();
    } else if (k == "enum" || k == "const") {
      Json values = k == "enum" ? v : Json::array({v});
      if (!values.is_array() || values.empty()) bad(sub, "enum must be a non-empty list");
      for (const auto& lit : values) {
        n.literals.push_back(lit);
        n.literal_texts.push_back(json_dumps(lit));
      }
    } else if (k == "anyOf" || k == "oneOf") {
      if (!v.is_array() || v.empty()) bad(sub, "must be a non-empty list of schemas");
      for (size_t i = 0; i < v.size(); ++i) n.options.push_back(compile(v[i], sub + "/" + std::to_string(i), depth + 1));
      n.kind = K::AnyOf;
    } else {
      bad(sub, "keyword '" + k + "' is not supported");
    }
  }
  if (!n.literals.empty()) n.kind = K::Literals;  // enum/const decide the value, whatever the type says
  if (auto req = s.find("required"); req != s.end()) {
    n.required.assign(n.properties.size(), false);
    for (const auto& r : *req) {
      if (!r.is_string()) bad(path + "/required", "must be a list of property names");
      bool found = false;
      for (size_t i = 0; i < n.properties.size(); ++i) {
        if (n.properties[i].first == r.get<std::string>()) n.required[i] = found = true;
      }
      if (!found) bad(path + "/required", "'" + r.get<std::string>() + "' is not among the properties");
    }
  }
  n.required.resize(n.properties.size(), false);
  if (n.max_items >= 0 && n.max_items < n.min_items) bad(path, "maxItems < minItems");
  if (n.max_length >= 0 && n.max_length < n.min_length) bad(path, "maxLength < minLength");
  if (n.bounded()) {
    const double lo = n.minimum ? std::ceil(*n.minimum) : -1e15, hi = n.maximum ? std::floor(*n.maximum) : 1e15;
    if (lo > hi) bad(path, "no integer lies between minimum and maximum (generation emits bounded numbers as integers)");
    if (std::fabs(lo) > 1e15 || std::fabs(hi) > 1e15) bad(path, "bounds beyond ±1e15 are not supported");
  }
  nodes_[static_cast<size_t>(index)] = std::move(n);
  return index;
}

void JsonSchema::validate(const Json& value, const char* what) const { check(value, root(), "", what); }

void JsonSchema::check(const Json& v, int index, const std::string& path, const char* what) const {
  const SchemaNode& n = node(index);
  auto fail = [&](const std::string& problem) {
    ERNIE_FAIL(ERNIE_E_INVALID_ARGUMENT, "%s: %s: %s", what, path.empty() ? "/" : path.c_str(), problem.c_str());
  };
  using K = SchemaNode::Kind;
  switch (n.kind) {
    case K::Any: return;
    case K::Literals:
      for (const auto& lit : n.literals) {
        if (lit == v) return;
      }
      fail("not one of the allowed values");
    case K::AnyOf:
      for (int o : n.options) {
        try {
          check(v, o, path, what);
          return;
        } catch (const Error&) {
        }
      }
      fail("matches none of the anyOf/oneOf schemas");
    case K::Object: {
      if (!v.is_object()) fail("expected an object");
      for (size_t i = 0; i < n.properties.size(); ++i) {
        auto it = v.find(n.properties[i].first);
        if (it == v.end()) {
          if (n.required[i]) fail("missing required property '" + n.properties[i].first + "'");
          continue;
        }
        check(*it, n.properties[i].second, path + "/" + n.properties[i].first, what);
      }
      if (!n.additional_allowed) {
        for (auto it = v.begin(); it != v.end(); ++it) {
          bool known = false;
          for (const auto& p : n.properties) known |= p.first == it.key();
          if (!known) fail("unexpected property '" + it.key() + "'");
        }
      }
      return;
    }
    case K::Array: {
      if (!v.is_array()) fail("expected an array");
      const auto size = static_cast<int64_t>(v.size());
      if (size < n.min_items || (n.max_items >= 0 && size > n.max_items)) fail("array size out of range");
      if (n.items >= 0) {
        for (size_t i = 0; i < v.size(); ++i) check(v[i], n.items, path + "/" + std::to_string(i), what);
      }
      return;
    }
    case K::String: {
      if (!v.is_string()) fail("expected a string");
      const auto len = static_cast<int64_t>(code_points(v.get<std::string>()));
      if (len < n.min_length || (n.max_length >= 0 && len > n.max_length)) fail("string length out of range");
      return;
    }
    case K::Integer:
    case K::Number: {
      if (!v.is_number()) fail(n.kind == K::Integer ? "expected an integer" : "expected a number");
      const double d = v.get<double>();
      if (n.kind == K::Integer && !v.is_number_integer() && d != std::floor(d)) fail("expected an integer");
      if ((n.minimum && d < *n.minimum) || (n.maximum && d > *n.maximum)) fail("number out of range");
      return;
    }
    case K::Boolean:
      if (!v.is_boolean()) fail("expected true or false");
      return;
    case K::Null:
      if (!v.is_null()) fail("expected null");
      return;
  }
}

}  // namespace ernie
