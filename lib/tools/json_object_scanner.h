// Finds where a JSON object ends in text that may still be arriving, so a
// tool call's JSON is delimited by its own syntax: a "}" or "</tool_call>"
// inside a string argument does not end it. Only the lexical structure is
// checked here (strings, brackets, characters allowed outside strings); the
// delimited text is then parsed for real.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ernie {

class JsonObjectScanner {
 public:
  enum class Status { need_more, complete, malformed };

  explicit JsonObjectScanner(size_t max_depth) : max_depth_(max_depth) {}

  // `text` starts where the object should start ('{') and only grows between
  // calls; scanning resumes where the previous call stopped.
  Status scan(std::string_view text);

  // complete: one past the closing brace; malformed: the offending byte;
  // need_more: how far the text has been scanned.
  size_t end() const { return pos_; }

 private:
  bool allowed_outside_string(char c) const;

  size_t max_depth_;
  Status status_ = Status::need_more;
  size_t pos_ = 0;
  std::string open_brackets_;  // '{' and '[' still open, innermost last
  bool in_string_ = false;
  bool escaped_ = false;
};

}  // namespace ernie
