#include "api/api_common.h"

#include <cstdlib>

namespace ernie::api {
namespace {
thread_local std::string t_last_error;
}

void set_last_error(const std::string& message) {
  try {
    t_last_error = message;
  } catch (...) {
    t_last_error.clear();  // out of memory while reporting: keep the status alone
  }
}
void clear_last_error() { t_last_error.clear(); }
const char* last_error() { return t_last_error.c_str(); }

void return_text(const std::string& text, char** out_text, size_t* out_len) {
  auto* buf = static_cast<char*>(std::malloc(text.size() + 1));  // ernie_free is std::free
  ERNIE_CHECK(buf, ERNIE_E_OUT_OF_MEMORY, "cannot allocate %zu bytes for the returned text", text.size() + 1);
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  *out_text = buf;
  if (out_len) *out_len = text.size();
}

}  // namespace ernie::api

extern "C" ERNIE_API const char* ernie_last_error(void) { return ernie::api::last_error(); }
