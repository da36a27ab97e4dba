#include "util/error.h"

#include <cstdarg>
#include <cstdio>

namespace ernie {

std::string strfmt(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string out;
  if (n > 0) {
    out.resize(static_cast<size_t>(n));
    std::vsnprintf(out.data(), out.size() + 1, fmt, ap2);
  }
  va_end(ap2);
  return out;
}

std::string quote_name(const std::string& name) {
  constexpr size_t kMaxBytes = 64;
  std::string out = "'";
  for (size_t i = 0; i < name.size() && i < kMaxBytes; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += strfmt("\\x%02x", c);
    }
  }
  if (name.size() > kMaxBytes) out += "...";
  return out + "'";
}

void fail(ernie_status status, std::string message) { throw Error(status, std::move(message)); }

}  // namespace ernie
