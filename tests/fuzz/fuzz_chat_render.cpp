// Chat rendering from arbitrary conversation JSON, through the C API. The
// first input byte picks the format (the model's own, "pt", "thinking", or an
// unknown name); the rest is the JSON document.
#include <string>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kFormats[] = {nullptr, "pt", "thinking", "auto", "jinja?"};
  const char* format = kFormats[data[0] % std::size(kFormats)];
  const std::string json(reinterpret_cast<const char*>(data + 1), size - 1);  // NUL-terminated copy
  char* text = nullptr;
  size_t len = 0;
  if (ernie_chat_render_json(fuzz::tiny_model(), json.c_str(), format, &text, &len) == ERNIE_OK) {
    if (text == nullptr || text[len] != '\0') __builtin_trap();
  }
  ernie_free(text);
  return 0;
}
