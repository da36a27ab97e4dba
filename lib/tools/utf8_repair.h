// Model output is bytes: byte-fallback tokens can produce sequences that are
// not UTF-8. The output parser works on text, so bad bytes become U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace ernie {

// `s` with every ill-formed sequence replaced by U+FFFD: one replacement per
// lead byte and the continuation bytes it may take (a character cut short
// gives one U+FFFD), one per stray byte otherwise. Deterministic per
// position, so repairing the pieces of a stream cut at utf8_complete_prefix
// boundaries gives the same text as repairing the whole.
std::string utf8_replace_invalid(std::string_view s);

}  // namespace ernie
