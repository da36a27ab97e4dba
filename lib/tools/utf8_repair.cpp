#include "tools/utf8_repair.h"

#include "util/utf8.h"

namespace ernie {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Length of the ill-formed piece at the start of `s` to replace by one U+FFFD:
// the lead byte plus the continuation bytes that still left it unfinished.
size_t bad_piece_length(std::string_view s) {
  size_t n = 1;
  while (n < 4 && n < s.size() && is_continuation(s[n]) &&
         utf8_complete_prefix(s.substr(0, n + 1)) == 0)
    ++n;
  return n;
}

}  // namespace

std::string utf8_replace_invalid(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t bad = 0;
  while (!utf8_valid(s, &bad)) {
    out.append(s.substr(0, bad));
    out.append(kReplacement);
    s.remove_prefix(bad + bad_piece_length(s.substr(bad)));
  }
  out.append(s);
  return out;
}

}  // namespace ernie
