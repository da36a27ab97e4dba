// Streaming strip(): removes characters of a set from both ends of a section
// of text that arrives in pieces. Trailing candidates are held back until
// either more text shows they were inside the section or end() drops them.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

namespace ernie {

class EdgeTrimmer {
 public:
  static constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

  // Strips at most `max_per_edge` characters from each end (kUnlimited:
  // Python's str.strip(chars)). `chars` must outlive the trimmer.
  EdgeTrimmer(std::string_view chars, size_t max_per_edge) : chars_(chars), max_(max_per_edge) {}

  // The part of the section's text that can be passed on now.
  std::string push(std::string_view text);

  // The section ended: drops what was held back and starts a new section.
  void end();

 private:
  bool strippable(char c) const { return chars_.find(c) != std::string_view::npos; }

  std::string_view chars_;
  size_t max_;
  size_t leading_stripped_ = 0;
  bool started_ = false;  // some text of the section was passed on or held
  std::string held_;      // trailing candidates, at most max_ characters
};

}  // namespace ernie
