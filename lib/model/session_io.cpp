// Saving and restoring a session's context. Blob layout (little-endian):
//   0  "ERNIESS\0"                      magic
//   8  u32 blob format version (1)
//  12  u32 flags (0)
//  16  u64 model identity (Model::identity)
//  24  u64 n_tokens
//  32  u64 payload bytes before compression (n_tokens * 4 + KV bytes)
//  40  u32 crc32c of the compressed payload
//  44  u32 crc32c of bytes [0, 44)
//  48  zstd frame: the tokens (i32) then the KV cache (SessionState::save_kv)
// Everything is checked before anything is allocated or the session changed.
#include <zstd.h>

#include <cstring>

#include "model/model.h"
#include "model/session.h"
#include "util/bytes.h"
#include "util/checksum.h"
#include "util/error.h"

namespace ernie {
namespace {

constexpr char kMagic[8] = {'E', 'R', 'N', 'I', 'E', 'S', 'S', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 48;

}  // namespace

std::string Session::save() const {
  const auto n = static_cast<uint64_t>(n_past_);
  const uint64_t raw_size = n * sizeof(int32_t) + state_->kv_bytes(n_past_);
  std::string raw(raw_size, '\0');
  if (n) std::memcpy(raw.data(), tokens_.data(), n * sizeof(int32_t));
  state_->save_kv(n_past_, reinterpret_cast<uint8_t*>(raw.data()) + n * sizeof(int32_t));

  std::string blob(kHeaderSize + ZSTD_compressBound(raw.size()), '\0');
  size_t z = ZSTD_compress(blob.data() + kHeaderSize, blob.size() - kHeaderSize, raw.data(), raw.size(), 3);
  ERNIE_CHECK(!ZSTD_isError(z), ERNIE_E_INTERNAL, "session save: %s", ZSTD_getErrorName(z));
  blob.resize(kHeaderSize + z);
  auto* h = reinterpret_cast<uint8_t*>(blob.data());
  std::memcpy(h, kMagic, 8);
  store_le32(h + 8, kVersion);
  store_le32(h + 12, 0);
  store_le64(h + 16, model_.identity());
  store_le64(h + 24, n);
  store_le64(h + 32, raw_size);
  store_le32(h + 40, crc32c(h + kHeaderSize, z));
  store_le32(h + 44, crc32c(h, 44));
  return blob;
}

void Session::restore(const void* data, size_t size) {
  ERNIE_CHECK(data, ERNIE_E_INVALID_ARGUMENT, "session restore: blob is NULL");
  const auto* h = static_cast<const uint8_t*>(data);
  ERNIE_CHECK(size >= kHeaderSize && std::memcmp(h, kMagic, 8) == 0, ERNIE_E_INVALID_ARGUMENT,
              "session restore: not a saved ernie session");
  ERNIE_CHECK(load_le32(h + 44) == crc32c(h, 44), ERNIE_E_INVALID_ARGUMENT,
              "session restore: the blob's header is damaged (checksum mismatch)");
  const uint32_t version = load_le32(h + 8);
  ERNIE_CHECK(version == kVersion, ERNIE_E_INVALID_ARGUMENT,
              "session restore: blob format version %u is not supported (this library reads %u)", version, kVersion);
  ERNIE_CHECK(load_le64(h + 16) == model_.identity(), ERNIE_E_INVALID_ARGUMENT,
              "session restore: the blob was saved from a different model");
  const uint64_t n = load_le64(h + 24);
  ERNIE_CHECK(n <= static_cast<uint64_t>(state_->n_ctx()), ERNIE_E_CONTEXT_FULL,
              "session restore: the blob holds %llu tokens but this session's context is %lld",
              static_cast<unsigned long long>(n), static_cast<long long>(state_->n_ctx()));
  const uint64_t raw_size = n * sizeof(int32_t) + state_->kv_bytes(static_cast<int64_t>(n));
  ERNIE_CHECK(load_le64(h + 32) == raw_size, ERNIE_E_INVALID_ARGUMENT,
              "session restore: the blob's sizes are inconsistent");
  ERNIE_CHECK(load_le32(h + 40) == crc32c(h + kHeaderSize, size - kHeaderSize), ERNIE_E_INVALID_ARGUMENT,
              "session restore: the blob is damaged (checksum mismatch)");
  std::string raw(raw_size, '\0');
  size_t got = ZSTD_decompress(raw.data(), raw.size(), h + kHeaderSize, size - kHeaderSize);
  ERNIE_CHECK(!ZSTD_isError(got) && got == raw_size, ERNIE_E_INVALID_ARGUMENT,
              "session restore: the blob does not decompress");
  std::vector<int32_t> tokens(n);
  if (n) std::memcpy(tokens.data(), raw.data(), n * sizeof(int32_t));
  for (int32_t t : tokens) {
    ERNIE_CHECK(t >= 0 && t < model_.config().vocab_size, ERNIE_E_INVALID_ARGUMENT,
                "session restore: the blob holds an invalid token id");
  }
  state_->load_kv(static_cast<int64_t>(n), reinterpret_cast<const uint8_t*>(raw.data()) + n * sizeof(int32_t));
  tokens_ = std::move(tokens);
  n_past_ = static_cast<int64_t>(n);
  last_n_tokens_ = 0;
}

}  // namespace ernie
