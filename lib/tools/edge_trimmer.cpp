#include "tools/edge_trimmer.h"

namespace ernie {

std::string EdgeTrimmer::push(std::string_view text) {
  if (!started_) {
    while (!text.empty() && leading_stripped_ < max_ && strippable(text.front())) {
      text.remove_prefix(1);
      ++leading_stripped_;
    }
    if (text.empty()) return {};
    started_ = true;
  }
  size_t run = 0;  // trailing strippable characters of `text`, at most max_
  while (run < text.size() && run < max_ && strippable(text[text.size() - 1 - run])) ++run;

  std::string out;
  if (run == text.size()) {
    // Only candidates: they join the held run, which keeps its last max_.
    held_.append(text);
    if (held_.size() > max_) {
      out = held_.substr(0, held_.size() - max_);
      held_.erase(0, out.size());
    }
    return out;
  }
  out = std::move(held_);
  out.append(text.substr(0, text.size() - run));
  held_.assign(text.substr(text.size() - run));
  return out;
}

void EdgeTrimmer::end() {
  held_.clear();
  started_ = false;
  leading_stripped_ = 0;
}

}  // namespace ernie
