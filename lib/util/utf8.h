// UTF-8 checks shared by the tokenizer, chat formats and streaming output.
#pragma once

#include <cstddef>
#include <string_view>

namespace ernie {

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or values above
// U+10FFFF). On failure *bad_offset (if given) is the first bad byte's offset.
bool utf8_valid(std::string_view s, size_t* bad_offset = nullptr);

// Length of the longest prefix of `s` that does not end inside a multi-byte
// character: what a stream may emit now without splitting a character.
size_t utf8_complete_prefix(std::string_view s);

}  // namespace ernie
