// The tokenizer on arbitrary bytes. The first input byte picks the mode:
//   0: the rest is text, tokenized as plain text, then detokenized
//   1: the same with special-token parsing
//   2: the rest is little-endian int32 ids, detokenized
//   3: the rest is a tokenizer.model (SentencePiece ModelProto): listed,
//      rewritten, and when it lists, loaded as the tokenizer
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "tokenizer/sp_model_proto.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace {

void detokenize(ernie_model* model, const int32_t* ids, size_t n) {
  size_t len = 0;
  if (ernie_detokenize(model, ids, n, nullptr, 0, &len) != ERNIE_E_BUFFER_TOO_SMALL) return;
  std::string text(len + 1, '\0');
  ernie_detokenize(model, ids, n, text.data(), text.size(), &len);
}

void tokenize(ernie_model* model, const char* text, size_t len, uint32_t flags) {
  size_t n = 0;
  ernie_status s = ernie_tokenize(model, text, len, flags, nullptr, 0, &n);
  if (s != ERNIE_E_BUFFER_TOO_SMALL && s != ERNIE_OK) return;
  std::vector<int32_t> ids(n);
  if (ernie_tokenize(model, text, len, flags, ids.data(), ids.size(), &n) != ERNIE_OK) __builtin_trap();
  detokenize(model, ids.data(), ids.size());
}

void proto(std::string_view bytes) {
  try {
    auto pieces = ernie::sp_list_pieces(bytes);
    (void)ernie::sp_demote_user_defined(bytes);
    (void)ernie::sp_adds_dummy_prefix(bytes);
    (void)ernie::sp_without_dummy_prefix(bytes);
    ernie::Tokenizer tok(bytes, {});
    auto ids = tok.encode("Hello world <|im_end|>", true);
    (void)tok.decode(ids.data(), ids.size());
  } catch (const ernie::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ernie_model* model = fuzz::tiny_model();
  const char* rest = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  switch (data[0] % 4) {
    case 0: tokenize(model, rest, n, 0); break;
    case 1: tokenize(model, rest, n, ERNIE_TOKENIZE_PARSE_SPECIAL); break;
    case 2: {
      std::vector<int32_t> ids(n / 4);
      if (!ids.empty()) std::memcpy(ids.data(), rest, ids.size() * 4);
      detokenize(model, ids.data(), ids.size());
      break;
    }
    default: proto(std::string_view(rest, n)); break;
  }
  return 0;
}
