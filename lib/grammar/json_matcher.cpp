#include "grammar/json_matcher.h"

#include <cmath>
#include <cstdlib>

#include "chat/json_dumps.h"

namespace ernie {
namespace {

using K = SchemaNode::Kind;
constexpr size_t kMaxStack = 160;     // bounds nesting of "any" values
constexpr size_t kMaxAlternatives = 64;
constexpr int kMaxDigits = 15;        // integer and fraction digits
constexpr int kMaxExponentDigits = 2;  // 1e99 still fits a double

bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
bool is_hex(uint8_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Integer bounds of a node, as generation uses them.
void bounds_of(const SchemaNode& n, double& lo, double& hi) {
  lo = n.minimum ? std::ceil(*n.minimum) : -1e15;
  hi = n.maximum ? std::floor(*n.maximum) : 1e15;
}

// Can the integer text `t` ("-", "-12", "7") be completed, by appending
// digits (or as is, when `as_is`), to a value within [lo, hi]?
bool integer_feasible(const std::string& t, double lo, double hi, bool as_is) {
  const bool neg = !t.empty() && t[0] == '-';
  const std::string digits = t.substr(neg ? 1 : 0);
  if (digits.empty()) return neg ? std::ceil(lo) <= std::min(hi, -1.0) || (lo <= 0 && 0 <= hi) : true;
  const double d = std::strtod(digits.c_str(), nullptr);
  if (as_is) {
    const double v = neg ? -d : d;
    return v >= lo && v <= hi;
  }
  if (digits == "0") return false;  // no digit may follow a leading zero
  double scale = 1;
  for (int m = 0; m + static_cast<int>(digits.size()) <= kMaxDigits; ++m, scale *= 10) {
    const double a = d * scale, b = d * scale + scale - 1;
    const double x = neg ? -b : a, y = neg ? -a : b;
    if (std::max(x, lo) <= std::min(y, hi)) return true;
  }
  return false;
}

}  // namespace

JsonMatcher::JsonMatcher(std::shared_ptr<const JsonSchema> schema) : schema_(std::move(schema)) {
  Frame root;
  root.type = Frame::Type::Value;
  root.node = schema_->root();
  alternatives_.push_back(Stack{root});
}

void JsonMatcher::expand(std::vector<Stack>& out, Stack s) const {
  if (out.size() >= kMaxAlternatives) return;
  if (!s.empty() && s.back().type == Frame::Type::Value && s.back().node >= 0 &&
      schema_->node(s.back().node).kind == K::AnyOf) {
    const auto options = schema_->node(s.back().node).options;
    s.pop_back();
    for (int o : options) {
      Stack copy = s;
      Frame f;
      f.type = Frame::Type::Value;
      f.node = o;
      copy.push_back(f);
      expand(out, std::move(copy));
    }
    return;
  }
  // Right after '[': either ']' (when allowed) or the first item.
  if (!s.empty() && s.back().type == Frame::Type::Array && s.back().phase == 0) {
    const SchemaNode* n = s.back().node >= 0 ? &schema_->node(s.back().node) : nullptr;
    const bool typed = n && n->kind == K::Array;
    if (!typed || n->min_items == 0) {
      Stack empty = s;
      empty.back().phase = 6;
      out.push_back(std::move(empty));
    }
    if (!typed || n->max_items != 0) {
      s.back().phase = 1;
      Frame v;
      v.type = Frame::Type::Value;
      v.node = typed ? n->items : -1;
      s.push_back(v);
      expand(out, std::move(s));
    }
    return;
  }
  out.push_back(std::move(s));
}

bool JsonMatcher::accept_byte(uint8_t c) {
  std::vector<Stack> next;
  for (const Stack& s : alternatives_) {
    std::vector<Stack> expanded;
    expand(expanded, s);
    for (Stack& e : expanded) {
      if (step(e, c) && next.size() < kMaxAlternatives) next.push_back(std::move(e));
    }
  }
  if (next.empty()) return false;
  alternatives_ = std::move(next);
  return true;
}

bool JsonMatcher::accept(std::string_view bytes) {
  std::vector<Stack> saved = alternatives_;
  for (char ch : bytes) {
    if (!accept_byte(static_cast<uint8_t>(ch))) {
      alternatives_ = std::move(saved);
      return false;
    }
  }
  return true;
}

bool JsonMatcher::keeps_state(uint8_t c) const { return plain_byte(c) && in_open_string(); }

bool JsonMatcher::in_open_string() const {
  for (const Stack& st : alternatives_) {
    if (st.empty()) return false;
    const Frame& f = st.back();
    if (f.type != Frame::Type::String || f.aux != 0) return false;
    if (f.node >= 0 && schema_->node(f.node).kind == K::String && schema_->node(f.node).max_length >= 0) return false;
  }
  return true;
}

bool JsonMatcher::is_complete() const {
  for (const Stack& s : alternatives_) {
    if (s.empty()) return true;
    if (s.size() == 1 && frame_can_end(s.back())) return true;
  }
  return false;
}

bool JsonMatcher::frame_can_end(const Frame& f) const {
  if (f.type == Frame::Type::Number) {
    if (f.phase != 2 && f.phase != 3 && f.phase != 5 && f.phase != 8) return false;
    if (f.node >= 0 && schema_->node(f.node).bounded()) {
      double lo, hi;
      bounds_of(schema_->node(f.node), lo, hi);
      return integer_feasible(f.buf, lo, hi, true);
    }
    return true;
  }
  if (f.type == Frame::Type::Literal) return f.aux == 1;  // a candidate matched completely
  return false;
}

void JsonMatcher::value_done(Stack& s) const {
  s.pop_back();
  if (s.empty()) return;
  Frame& p = s.back();
  if (p.type == Frame::Type::Object) {
    if (p.phase == 4) {  // a generic key finished: its value follows
      p.phase = 5;
      Frame v;
      v.type = Frame::Type::Value;
      v.node = -1;
      Frame colon;
      colon.type = Frame::Type::Punct;
      colon.buf = ": ";
      s.push_back(v);
      s.push_back(colon);
    } else {  // phase 5: the property's value finished
      p.phase = 2;
    }
  } else if (p.type == Frame::Type::Array) {
    ++p.index;
    p.phase = 2;
  }
}

bool JsonMatcher::start_value(Stack& s, int node, uint8_t c) const {
  if (s.size() >= kMaxStack) return false;
  Frame f;
  f.node = node;
  const SchemaNode* n = node >= 0 ? &schema_->node(node) : nullptr;
  const K kind = n ? n->kind : K::Any;
  auto literal = [&](std::vector<std::string> texts) {
    f.type = Frame::Type::Literal;
    s.push_back(f);
    Frame& l = s.back();
    // Literal candidates are kept as texts in a side list: buf holds what
    // matched; candidates index into `texts` stored after a NUL in buf.
    std::string store(1, '\0');
    for (auto& t : texts) store += t + '\0';
    l.buf = std::move(store);  // "\0" + each candidate text NUL-terminated
    l.index = 0;              // bytes matched
    for (int32_t i = 0; i < static_cast<int32_t>(texts.size()); ++i) l.candidates.push_back(i);
    return step(s, c);
  };
  switch (kind) {
    case K::Literals: return literal(n->literal_texts);
    case K::Boolean: return literal({"true", "false"});
    case K::Null: return literal({"null"});
    case K::AnyOf: return false;  // expanded before stepping
    case K::Object:
      if (c != '{') return false;
      f.type = Frame::Type::Object;
      s.push_back(f);
      return true;
    case K::Array:
      if (c != '[') return false;
      f.type = Frame::Type::Array;
      s.push_back(f);
      return true;
    case K::String:
      if (c != '"') return false;
      f.type = Frame::Type::String;
      s.push_back(f);
      return true;
    case K::Number:
    case K::Integer:
      if (c != '-' && !is_digit(c)) return false;
      f.type = Frame::Type::Number;
      s.push_back(f);
      return step(s, c);
    case K::Any:
      if (c == '{') f.type = Frame::Type::Object;
      else if (c == '[') f.type = Frame::Type::Array;
      else if (c == '"') f.type = Frame::Type::String;
      else if (c == '-' || is_digit(c)) {
        f.type = Frame::Type::Number;
        s.push_back(f);
        return step(s, c);
      } else if (c == 't' || c == 'f' || c == 'n') {
        return literal({"true", "false", "null"});
      } else {
        return false;
      }
      f.node = -1;
      s.push_back(f);
      return true;
  }
  return false;
}

bool JsonMatcher::step(Stack& s, uint8_t c) const {
  if (s.empty()) return false;  // the value is complete: nothing may follow
  Frame& f = s.back();
  const SchemaNode* n = f.node >= 0 ? &schema_->node(f.node) : nullptr;
  switch (f.type) {
    case Frame::Type::Value: {
      Frame v = f;
      s.pop_back();
      return start_value(s, v.node, c);
    }
    case Frame::Type::Punct:
      if (f.buf.empty() || static_cast<uint8_t>(f.buf[0]) != c) return false;
      f.buf.erase(0, 1);
      if (f.buf.empty()) s.pop_back();
      return true;
    case Frame::Type::Object: {
      const bool schema_object = n && n->kind == K::Object;
      // Required properties from `from` on: may the object end / skip to j?
      auto no_required_in = [&](size_t from, size_t to) {
        for (size_t i = from; i < to; ++i) {
          if (n->required[i]) return false;
        }
        return true;
      };
      if (f.phase == 0 || f.phase == 3) {
        if (f.phase == 0 && c == '}') {
          if (schema_object && !no_required_in(0, n->properties.size())) return false;
          value_done(s);
          return true;
        }
        if (c != '"') return false;
        if (!schema_object) {
          f.phase = 4;
          Frame key;
          key.type = Frame::Type::String;
          key.node = -1;
          s.push_back(key);
          return true;
        }
        Frame key;
        key.type = Frame::Type::Key;
        key.node = f.node;
        for (size_t j = static_cast<size_t>(f.index); j < n->properties.size(); ++j) {
          key.candidates.push_back(static_cast<int32_t>(j));
          if (n->required[j]) break;  // cannot skip past a required property
        }
        if (key.candidates.empty()) return false;
        key.buf = "\"";
        s.push_back(key);
        return true;
      }
      if (f.phase == 2) {
        if (c == '}') {
          if (schema_object && !no_required_in(static_cast<size_t>(f.index), n->properties.size())) return false;
          value_done(s);
          return true;
        }
        if (c != ',') return false;
        if (schema_object && static_cast<size_t>(f.index) >= n->properties.size()) return false;
        f.phase = 3;
        Frame space;
        space.type = Frame::Type::Punct;
        space.buf = " ";
        s.push_back(space);
        return true;
      }
      return false;
    }
    case Frame::Type::Key: {
      const SchemaNode& obj = schema_->node(f.node);
      std::string next = f.buf + static_cast<char>(c);
      std::vector<int32_t> still;
      int32_t done = -1;
      for (int32_t j : f.candidates) {
        const std::string text = json_dumps(nlohmann::ordered_json(obj.properties[static_cast<size_t>(j)].first));
        if (text.compare(0, next.size(), next) != 0) continue;
        still.push_back(j);
        if (text.size() == next.size()) done = j;
      }
      if (still.empty()) return false;
      if (done < 0) {
        f.buf = std::move(next);
        f.candidates = std::move(still);
        return true;
      }
      s.pop_back();
      Frame& o = s.back();
      o.index = done + 1;
      o.phase = 5;
      Frame v;
      v.type = Frame::Type::Value;
      v.node = obj.properties[static_cast<size_t>(done)].second;
      Frame colon;
      colon.type = Frame::Type::Punct;
      colon.buf = ": ";
      s.push_back(v);
      s.push_back(colon);
      return true;
    }
    case Frame::Type::Array: {
      const int items = n && n->kind == K::Array ? n->items : -1;
      const int64_t min_items = n && n->kind == K::Array ? n->min_items : 0;
      const int64_t max_items = n && n->kind == K::Array ? n->max_items : -1;
      if (f.phase == 6) {  // the empty array's closing bracket (see expand)
        if (c != ']') return false;
        value_done(s);
        return true;
      }
      if (f.phase == 2) {
        if (c == ']') {
          if (f.index < min_items) return false;
          value_done(s);
          return true;
        }
        if (c != ',' || (max_items >= 0 && f.index >= max_items)) return false;
        f.phase = 1;
        Frame v;
        v.type = Frame::Type::Value;
        v.node = items;
        Frame space;
        space.type = Frame::Type::Punct;
        space.buf = " ";
        s.push_back(v);
        s.push_back(space);
        return true;
      }
      return false;
    }
    case Frame::Type::String: {
      const int64_t min_len = n && n->kind == K::String ? n->min_length : 0;
      const int64_t max_len = n && n->kind == K::String ? n->max_length : -1;
      auto count_char = [&] {
        if (max_len >= 0 && f.index + 1 > max_len) return false;
        ++f.index;
        return true;
      };
      if (f.aux >= 10) {  // inside a multi-byte UTF-8 character
        const auto lo = static_cast<uint8_t>(f.buf[0]), hi = static_cast<uint8_t>(f.buf[1]);
        if (c < lo || c > hi) return false;
        f.buf = std::string{'\x80', '\xBF'};
        f.aux = f.aux - 1 == 10 ? 0 : f.aux - 1;
        return true;
      }
      if (f.aux == 1) {  // after a backslash
        if (c == 'u') {
          f.aux = 2;
          return true;
        }
        if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' && c != 't') return false;
        f.aux = 0;
        return true;
      }
      if (f.aux >= 2 && f.aux <= 5) {  // \uXXXX: only \u00XX (no surrogates)
        if ((f.aux <= 3 && c != '0') || !is_hex(c)) return false;
        f.aux = f.aux == 5 ? 0 : f.aux + 1;
        return true;
      }
      if (c == '"') {
        if (f.index < min_len) return false;
        value_done(s);
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (!count_char()) return false;
        f.aux = 1;
        return true;
      }
      if (c < 0x80) return count_char();
      // UTF-8 lead byte: remember the allowed range of the next byte.
      uint8_t lo = 0x80, hi = 0xBF;
      int follow;
      if (c >= 0xC2 && c <= 0xDF) {
        follow = 1;
      } else if (c >= 0xE0 && c <= 0xEF) {
        follow = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        follow = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
      } else {
        return false;
      }
      if (!count_char()) return false;
      f.buf = std::string{static_cast<char>(lo), static_cast<char>(hi)};
      f.aux = 10 + follow;
      return true;
    }
    case Frame::Type::Number: {
      const bool integer = n && (n->kind == K::Integer || n->bounded());
      std::string next = f.buf + static_cast<char>(c);
      uint8_t phase = 255;
      int digits = f.aux;
      switch (f.phase) {
        case 0:
          if (c == '-') phase = 1;
          else if (c == '0') phase = 2;
          else if (is_digit(c)) phase = 3, digits = 1;
          break;
        case 1:
          if (c == '0') phase = 2;
          else if (is_digit(c)) phase = 3, digits = 1;
          break;
        case 2:
        case 3:
          if (f.phase == 3 && is_digit(c) && digits < kMaxDigits) phase = 3, ++digits;
          else if (c == '.' && !integer) phase = 4, digits = 0;
          else if ((c == 'e' || c == 'E') && !integer) phase = 6, digits = 0;
          break;
        case 4:
          if (is_digit(c)) phase = 5, digits = 1;
          break;
        case 5:
          if (is_digit(c) && digits < kMaxDigits) phase = 5, ++digits;
          else if (c == 'e' || c == 'E') phase = 6, digits = 0;
          break;
        case 6:
          if (c == '+' || c == '-') phase = 7;
          else if (is_digit(c)) phase = 8, digits = 1;
          break;
        case 7:
          if (is_digit(c)) phase = 8, digits = 1;
          break;
        case 8:
          if (is_digit(c) && digits < kMaxExponentDigits) phase = 8, ++digits;
          break;
      }
      if (phase != 255 && n && n->bounded()) {
        double lo, hi;
        bounds_of(*n, lo, hi);
        if (!integer_feasible(next, lo, hi, false) && !integer_feasible(next, lo, hi, true)) phase = 255;
      }
      if (phase != 255) {
        f.buf = std::move(next);
        f.phase = phase;
        f.aux = digits;
        return true;
      }
      if (!frame_can_end(f)) return false;
      value_done(s);
      return step(s, c);  // the byte belongs to the enclosing value
    }
    case Frame::Type::Literal: {
      // buf layout: "\0" + candidate texts, each NUL-terminated; index = bytes matched.
      std::vector<std::string> texts;
      size_t at = 1;
      while (at < f.buf.size()) {
        size_t end = f.buf.find('\0', at);
        texts.push_back(f.buf.substr(at, end - at));
        at = end + 1;
      }
      const auto pos = static_cast<size_t>(f.index);
      std::vector<int32_t> still;
      bool complete = false;
      for (int32_t i : f.candidates) {
        const std::string& t = texts[static_cast<size_t>(i)];
        if (t.size() > pos && static_cast<uint8_t>(t[pos]) == c) {
          still.push_back(i);
          complete |= t.size() == pos + 1;
        }
      }
      if (still.empty()) {
        if (f.aux != 1) return false;
        value_done(s);
        return step(s, c);
      }
      f.candidates = std::move(still);
      ++f.index;
      // Complete, and no candidate continues: done now. Complete but some
      // longer candidate (enum [1, 10]) continues: decide at the next byte.
      bool longer = false;
      for (int32_t i : f.candidates) longer |= texts[static_cast<size_t>(i)].size() > pos + 1;
      if (complete && !longer) {
        value_done(s);
        return true;
      }
      f.aux = complete ? 1 : 0;
      return true;
    }
  }
  return false;
}

}  // namespace ernie
