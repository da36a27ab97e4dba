// The parser of what a model generated (reasoning, answer, tool calls) on
// arbitrary text. Oracle: the streaming parser fed the text in pieces (split
// where the input's own bytes say) must agree with the one-shot parse, which
// the C API entry point must also produce without error.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "tools/tool_call_parser.h"
#include "util/error.h"

namespace {

bool same(const ernie::AssistantOutput& a, const ernie::AssistantOutput& b) {
  if (a.reasoning_content != b.reasoning_content || a.content != b.content ||
      a.invalid_tool_calls != b.invalid_tool_calls || a.tool_calls.size() != b.tool_calls.size()) {
    return false;
  }
  for (size_t i = 0; i < a.tool_calls.size(); ++i) {
    if (a.tool_calls[i].name != b.tool_calls[i].name || a.tool_calls[i].arguments != b.tool_calls[i].arguments) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ernie::AssistantOutput whole = ernie::parse_assistant_output(text);

  ernie::AssistantOutputParser stream;
  size_t at = 0, i = 0;
  while (at < text.size()) {
    size_t piece = 1 + (i < text.size() ? static_cast<uint8_t>(text[i]) % 7 : 3);
    piece = std::min(piece, text.size() - at);
    stream.feed(text.substr(at, piece));
    at += piece;
    ++i;
  }
  stream.finish();
  if (!same(whole, stream.result())) {
    std::fprintf(stderr, "streaming and one-shot parses differ\n");
    std::abort();
  }

  for (const char* format : {"thinking", "pt"}) {
    char* json = nullptr;
    size_t len = 0;
    ernie_status s = ernie_chat_parse(fuzz::tiny_model(), format, text.data(), text.size(), &json, &len);
    // Invalid UTF-8 is refused; everything else parses.
    if (s != ERNIE_OK && s != ERNIE_E_INVALID_ARGUMENT) std::abort();
    ernie_free(json);
  }
  return 0;
}
