#include "util/utf8.h"

#include <cstdint>

namespace ernie {
namespace {

// Length of a sequence from its lead byte (0 for a continuation or invalid lead).
size_t sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

}  // namespace

bool utf8_valid(std::string_view s, size_t* bad_offset) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    uint8_t c = p[i];
    size_t len = sequence_length(c);
    bool ok = len != 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = (p[i + k] & 0xC0) == 0x80;
    if (ok && len == 3) {
      if (c == 0xE0 && p[i + 1] < 0xA0) ok = false;  // overlong
      if (c == 0xED && p[i + 1] > 0x9F) ok = false;  // surrogate
    }
    if (ok && len == 4) {
      if (c == 0xF0 && p[i + 1] < 0x90) ok = false;  // overlong
      if (c == 0xF4 && p[i + 1] > 0x8F) ok = false;  // above U+10FFFF
    }
    if (!ok) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

size_t utf8_complete_prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size();
  // Look back at most 3 bytes for the lead byte of a final, unfinished sequence.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    uint8_t c = p[n - back];
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking
    size_t len = sequence_length(c);
    return (len > back) ? n - back : n;
  }
  return n;
}

}  // namespace ernie
