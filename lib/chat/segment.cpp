#include "chat/segment.h"

namespace ernie {

std::string join_segments(const std::vector<Segment>& segments) {
  size_t total = 0;
  for (const auto& s : segments) total += s.text.size();
  std::string out;
  out.reserve(total);
  for (const auto& s : segments) out += s.text;
  return out;
}

void SegmentBuilder::add(std::string_view text, bool is_template) {
  if (text.empty()) return;
  if (!segments_.empty() && segments_.back().is_template == is_template) {
    segments_.back().text += text;
  } else {
    segments_.push_back(Segment{std::string(text), is_template});
  }
}

}  // namespace ernie
