#include "format/packed_layout.h"

#include <cstring>

#include "util/bytes.h"
#include "util/checksum.h"

namespace ernie::packed {
namespace {

// Field offsets inside the header (docs/format.md, "Header").
constexpr size_t kSectionsAt = 32;  // 4 sections x (u64 offset, u64 size)
constexpr size_t kCrcsAt = 96;
constexpr size_t kTensorCountAt = 108;
constexpr size_t kFlagsAt = 112;
constexpr size_t kReservedAt = 116;

// Field offsets inside a directory entry.
constexpr size_t kDtypeAt = 96;
constexpr size_t kShapeAt = 104;
constexpr size_t kOffsetAt = 136;
constexpr size_t kSizeAt = 144;
constexpr size_t kEntryCrcAt = 152;
constexpr size_t kEntryReservedAt = 156;

Section* sections(Header& h, size_t i) {
  Section* all[4] = {&h.metadata, &h.tokenizer, &h.directory, &h.data};
  return all[i];
}

}  // namespace

std::array<uint8_t, kHeaderSize> encode_header(const Header& in) {
  Header h = in;
  std::array<uint8_t, kHeaderSize> b{};
  std::memcpy(b.data(), h.magic, 8);
  store_le32(&b[8], h.format_version);
  store_le32(&b[12], h.endian_check);
  store_le32(&b[16], h.header_size);
  store_le32(&b[20], h.data_alignment);
  store_le64(&b[24], h.file_size);
  for (size_t i = 0; i < 4; ++i) {
    store_le64(&b[kSectionsAt + 16 * i], sections(h, i)->offset);
    store_le64(&b[kSectionsAt + 16 * i + 8], sections(h, i)->size);
  }
  store_le32(&b[kCrcsAt], h.metadata_crc);
  store_le32(&b[kCrcsAt + 4], h.tokenizer_crc);
  store_le32(&b[kCrcsAt + 8], h.directory_crc);
  store_le32(&b[kTensorCountAt], h.tensor_count);
  store_le32(&b[kFlagsAt], h.flags);
  std::memcpy(&b[kReservedAt], h.reserved, sizeof h.reserved);
  store_le32(&b[kHeaderCrcOffset], crc32c(b.data(), kHeaderCrcOffset));
  return b;
}

Header decode_header(const uint8_t* b) {
  Header h;
  std::memcpy(h.magic, b, 8);
  h.format_version = load_le32(&b[8]);
  h.endian_check = load_le32(&b[12]);
  h.header_size = load_le32(&b[16]);
  h.data_alignment = load_le32(&b[20]);
  h.file_size = load_le64(&b[24]);
  for (size_t i = 0; i < 4; ++i) {
    sections(h, i)->offset = load_le64(&b[kSectionsAt + 16 * i]);
    sections(h, i)->size = load_le64(&b[kSectionsAt + 16 * i + 8]);
  }
  h.metadata_crc = load_le32(&b[kCrcsAt]);
  h.tokenizer_crc = load_le32(&b[kCrcsAt + 4]);
  h.directory_crc = load_le32(&b[kCrcsAt + 8]);
  h.tensor_count = load_le32(&b[kTensorCountAt]);
  h.flags = load_le32(&b[kFlagsAt]);
  std::memcpy(h.reserved, &b[kReservedAt], sizeof h.reserved);
  h.header_crc = load_le32(&b[kHeaderCrcOffset]);
  return h;
}

void encode_entry(const Entry& e, uint8_t* b) {
  std::memcpy(b, e.name, sizeof e.name);
  store_le32(&b[kDtypeAt], e.dtype);
  store_le32(&b[kDtypeAt + 4], e.ndim);
  for (size_t i = 0; i < 4; ++i) store_le64(&b[kShapeAt + 8 * i], e.shape[i]);
  store_le64(&b[kOffsetAt], e.offset);
  store_le64(&b[kSizeAt], e.size);
  store_le32(&b[kEntryCrcAt], e.crc32c);
  store_le32(&b[kEntryReservedAt], e.reserved);
}

Entry decode_entry(const uint8_t* b) {
  Entry e;
  std::memcpy(e.name, b, sizeof e.name);
  e.dtype = load_le32(&b[kDtypeAt]);
  e.ndim = load_le32(&b[kDtypeAt + 4]);
  for (size_t i = 0; i < 4; ++i) e.shape[i] = load_le64(&b[kShapeAt + 8 * i]);
  e.offset = load_le64(&b[kOffsetAt]);
  e.size = load_le64(&b[kSizeAt]);
  e.crc32c = load_le32(&b[kEntryCrcAt]);
  e.reserved = load_le32(&b[kEntryReservedAt]);
  return e;
}

std::optional<uint64_t> tensor_byte_size(DType type, const uint64_t* shape, size_t ndim) {
  if (ndim == 0) return std::nullopt;
  uint64_t elements = 1;
  for (size_t i = 0; i < ndim; ++i) {
    if (shape[i] == 0 || shape[i] > kMaxElements) return std::nullopt;
    if (!checked_mul(elements, shape[i], &elements) || elements > kMaxElements) return std::nullopt;
  }
  uint64_t row_bytes = dtype_row_bytes(type, shape[ndim - 1]);
  if (row_bytes == 0) return std::nullopt;
  const uint64_t rows = ndim >= 2 ? shape[ndim - 2] : 1;  // q4x8 stores whole groups of rows
  if (rows % dtype_row_group(type) != 0) return std::nullopt;
  return elements / shape[ndim - 1] * row_bytes;
}

}  // namespace ernie::packed
