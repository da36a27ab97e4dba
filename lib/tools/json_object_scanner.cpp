#include "tools/json_object_scanner.h"

namespace ernie {

bool JsonObjectScanner::allowed_outside_string(char c) const {
  // Whitespace, separators and the characters of numbers, true, false, null.
  // A '<' (the start of a tag) can never be part of JSON outside a string.
  static constexpr std::string_view kAllowed = " \t\r\n,:-+.0123456789eEtrufalsn";
  return kAllowed.find(c) != std::string_view::npos;
}

JsonObjectScanner::Status JsonObjectScanner::scan(std::string_view text) {
  while (status_ == Status::need_more && pos_ < text.size()) {
    char c = text[pos_];
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        status_ = Status::malformed;  // raw control characters are not allowed in strings
        break;
      }
      ++pos_;
      continue;
    }
    if (pos_ == 0 && c != '{') {
      status_ = Status::malformed;
      break;
    }
    if (c == '{' || c == '[') {
      if (open_brackets_.size() >= max_depth_) {
        status_ = Status::malformed;
        break;
      }
      open_brackets_ += c;
    } else if (c == '}' || c == ']') {
      char opener = c == '}' ? '{' : '[';
      if (open_brackets_.empty() || open_brackets_.back() != opener) {
        status_ = Status::malformed;
        break;
      }
      open_brackets_.pop_back();
      if (open_brackets_.empty()) status_ = Status::complete;
    } else if (c == '"') {
      in_string_ = true;
    } else if (!allowed_outside_string(c)) {
      status_ = Status::malformed;
      break;
    }
    ++pos_;
  }
  return status_;
}

}  // namespace ernie
