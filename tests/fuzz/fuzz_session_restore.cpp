// Restoring a session from an arbitrary blob. The blob's model identity and
// checksums are patched to match (when it is long enough to hold them), so
// mutations reach the size checks, the decompressor and the KV cache load. A
// restored session must then evaluate.
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz_support.h"
#include "util/bytes.h"
#include "util/checksum.h"

namespace {

constexpr size_t kHeaderSize = 48;  // lib/model/session_io.cpp

ernie_session* session() {
  static ernie_session* s = [] {
    ernie_session_params sp;
    ernie_session_params_init(&sp);
    sp.n_ctx = 64;
    sp.n_threads = 1;
    ernie_session* out = nullptr;
    if (ernie_session_create(fuzz::tiny_model(), &sp, &out) != ERNIE_OK) std::abort();
    return out;
  }();
  return s;
}

// The model identity stamped into blobs saved from the tiny model.
std::string identity() {
  static const std::string id = [] {
    void* blob = nullptr;
    size_t n = 0;
    if (ernie_session_save(session(), &blob, &n) != ERNIE_OK || n < kHeaderSize) std::abort();
    std::string out(static_cast<const char*>(blob) + 16, 8);
    ernie_free(blob);
    return out;
  }();
  return id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string blob(reinterpret_cast<const char*>(data), size);
  if (blob.size() >= kHeaderSize) {
    auto* h = reinterpret_cast<uint8_t*>(blob.data());
    std::memcpy(h + 16, identity().data(), 8);
    ernie::store_le32(h + 40, ernie::crc32c(h + kHeaderSize, blob.size() - kHeaderSize));
    ernie::store_le32(h + 44, ernie::crc32c(h, 44));
  }
  ernie_session* s = session();
  if (ernie_session_restore(s, blob.data(), blob.size()) == ERNIE_OK) {
    int64_t n_past = 0;
    ernie_session_n_past(s, &n_past);
    const int32_t token = 1;
    ernie_status st = ernie_session_eval(s, &token, 1, 0);
    if (st != ERNIE_OK && st != ERNIE_E_CONTEXT_FULL) std::abort();
  }
  ernie_session_reset(s);
  return 0;
}
