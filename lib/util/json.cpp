#include "util/json.h"

#include <string>
#include <unordered_map>
#include <vector>

#include "util/error.h"

namespace ernie {
namespace {

using Json = nlohmann::ordered_json;

// Builds the document from the parser's SAX events. The library's own DOM
// builder looks each new key up linearly in the ordered object, which makes
// a hostile object with millions of keys take hours; here every open object
// has a hash index of its keys instead. Depth is checked as containers open,
// so nothing deeper than the limit is ever built.
class DomBuilder {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  DomBuilder(const char* what, size_t max_depth) : what_(what), max_depth_(max_depth) {}

  Json take_root() { return std::move(root_); }

  bool null() { return add(Json(nullptr)) != nullptr; }
  bool boolean(bool v) { return add(Json(v)) != nullptr; }
  bool number_integer(number_integer_t v) { return add(Json(v)) != nullptr; }
  bool number_unsigned(number_unsigned_t v) { return add(Json(v)) != nullptr; }
  bool number_float(number_float_t v, const string_t&) { return add(Json(v)) != nullptr; }
  bool string(string_t& v) { return add(Json(std::move(v))) != nullptr; }
  bool binary(binary_t&) {
    ERNIE_FAIL(ERNIE_E_INTERNAL, "%s: binary value in JSON text", what_);
  }

  bool start_object(size_t) { return open(Json::object()); }
  bool start_array(size_t) { return open(Json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(string_t& k) {
    pending_key_ = std::move(k);
    return true;
  }

  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, ...":
    // keep the human part only.
    std::string reason = e.what();
    size_t bracket = reason.find("] ");
    if (bracket != std::string::npos) reason = reason.substr(bracket + 2);
    ERNIE_FAIL(ERNIE_E_INVALID_MODEL, "%s: invalid JSON at byte %zu: %s", what_,
               position > 0 ? position - 1 : 0, reason.c_str());
  }

 private:
  struct Open {
    Json* value;
    std::unordered_map<std::string, size_t> keys;  // objects only: key -> index
  };

  // Stores `v` as the root, the next array element or the pending key's value;
  // returns where it now lives.
  Json* add(Json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Open& top = stack_.back();
    if (top.value->is_array()) {
      auto& arr = *top.value->get_ptr<Json::array_t*>();
      arr.push_back(std::move(v));
      return &arr.back();
    }
    auto& obj = *top.value->get_ptr<Json::object_t*>();
    auto [it, inserted] = top.keys.try_emplace(pending_key_, obj.size());
    // The vector base: ordered_map's own lookups and inserts search linearly.
    auto& entries = static_cast<Json::object_t::Container&>(obj);
    if (!inserted) {
      entries[it->second].second = std::move(v);
      return &entries[it->second].second;
    }
    entries.emplace_back(pending_key_, std::move(v));
    return &entries.back().second;
  }

  bool open(Json container) {
    ERNIE_CHECK(stack_.size() < max_depth_, ERNIE_E_INVALID_MODEL,
                "%s: JSON nested deeper than %zu levels", what_, max_depth_);
    Json* where = add(std::move(container));
    stack_.push_back(Open{where, {}});
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  const char* what_;
  size_t max_depth_;
  Json root_;
  std::vector<Open> stack_;
  std::string pending_key_;
};

}  // namespace

Json parse_json(std::string_view text, const char* what, size_t max_depth) {
  DomBuilder builder(what, max_depth);
  // Parse errors reach builder.parse_error, which throws ernie::Error.
  bool ok = Json::sax_parse(text.begin(), text.end(), &builder);
  ERNIE_CHECK(ok, ERNIE_E_INVALID_MODEL, "%s: invalid JSON", what);
  return builder.take_root();
}

}  // namespace ernie
