// A rendered prompt as pieces that say who wrote them. The prompt-injection
// rule: only text the template itself emitted may become control tokens
// ("<|im_end|>", "<tool_call>", …); everything the caller supplied (message
// content, reasoning, tool names and arguments, tool schemas, system
// settings) must be tokenized with special-token parsing OFF.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ernie {

struct Segment {
  std::string text;
  bool is_template;  // true: template text, tokenize with parse_special = true
};

std::string join_segments(const std::vector<Segment>& segments);

// Appends text to a segment list, merging neighbours of the same kind and
// dropping empty pieces, so the list is as short as it can be.
class SegmentBuilder {
 public:
  void add_template(std::string_view text) { add(text, true); }
  void add_content(std::string_view text) { add(text, false); }
  std::vector<Segment> take() { return std::move(segments_); }

 private:
  void add(std::string_view text, bool is_template);
  std::vector<Segment> segments_;
};

}  // namespace ernie
