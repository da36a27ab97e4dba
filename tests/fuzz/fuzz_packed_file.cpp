// The packed-model loader on arbitrary files. The section and header
// checksums are recomputed before loading (when the header's sections lie
// inside the input), so mutations reach the parsers behind them: metadata
// JSON, config, tokenizer, directory, and the model built from them. A file
// that loads is then used: info, tokenizing, a short evaluation.
#include <cstring>
#include <string>

#include "format/packed_layout.h"
#include "fuzz_support.h"
#include "util/checksum.h"

namespace {

void fix_checksums(std::string& file) {
  using namespace ernie::packed;
  if (file.size() < kHeaderSize) return;
  auto* base = reinterpret_cast<uint8_t*>(file.data());
  Header h = decode_header(base);
  auto fix = [&](const Section& s, uint32_t& crc) {
    if (s.offset <= file.size() && s.size <= file.size() - s.offset) crc = ernie::crc32c(base + s.offset, s.size);
  };
  fix(h.metadata, h.metadata_crc);
  fix(h.tokenizer, h.tokenizer_crc);
  fix(h.directory, h.directory_crc);
  auto encoded = encode_header(h);
  std::memcpy(base, encoded.data(), kHeaderSize);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file(reinterpret_cast<const char*>(data), size);
  fix_checksums(file);
  const std::string path = fuzz::scratch_dir() + "/input.ernie";
  fuzz::write_file(path, file);

  ernie_model_params mp;
  ernie_model_params_init(&mp);
  mp.n_threads = 1;
  mp.use_mmap = (size & 1) ? 0 : 1;  // both load modes
  ernie_model* model = nullptr;
  if (ernie_model_load(path.c_str(), &mp, &model) != ERNIE_OK) return 0;

  ernie_model_info info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  ernie_model_get_info(model, &info);
  const char* meta = nullptr;
  ernie_model_metadata(model, &meta);
  ernie_model_verify(model, nullptr, nullptr);

  int32_t ids[16];
  size_t n_ids = 0;
  ernie_tokenize(model, "Hello <|im_end|>", 16, ERNIE_TOKENIZE_PARSE_SPECIAL, ids, 16, &n_ids);
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = 16;
  ernie_session* session = nullptr;
  if (ernie_session_create(model, &sp, &session) == ERNIE_OK) {
    const int32_t tokens[2] = {1, 2};
    ernie_session_eval(session, tokens, 2, 0);
    ernie_session_free(session);
  }
  ernie_model_free(model);
  return 0;
}
