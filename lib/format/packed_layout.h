// The fixed-size records of the packed format (docs/format.md): the 128-byte
// header and the 160-byte tensor directory entries, with their byte-exact
// little-endian encoding. Shared by the reader and the writer; neither
// decoding function validates anything beyond the record's own bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "format/dtype.h"

namespace ernie::packed {

inline constexpr char kMagic[8] = {'E', 'R', 'N', 'I', 'E', 'P', 'K', '\0'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kEndianCheck = 0x01020304u;
inline constexpr uint32_t kHeaderSize = 128;
inline constexpr uint32_t kDataAlignment = 4096;  // data section start (page)
inline constexpr uint64_t kTensorAlignment = 64;  // every tensor's offset
inline constexpr uint32_t kEntrySize = 160;
inline constexpr size_t kMaxNameBytes = 95;  // + at least one NUL in 96 bytes

struct Section {
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct Header {
  char magic[8] = {};
  uint32_t format_version = 0;
  uint32_t endian_check = 0;
  uint32_t header_size = 0;
  uint32_t data_alignment = 0;
  uint64_t file_size = 0;
  Section metadata, tokenizer, directory, data;
  uint32_t metadata_crc = 0, tokenizer_crc = 0, directory_crc = 0;
  uint32_t tensor_count = 0;
  uint32_t flags = 0;
  uint8_t reserved[8] = {};
  uint32_t header_crc = 0;  // crc32c of bytes [0, 124)
};

// Encodes and fills in header_crc.
std::array<uint8_t, kHeaderSize> encode_header(const Header& h);
Header decode_header(const uint8_t* bytes);  // reads kHeaderSize bytes
inline constexpr size_t kHeaderCrcOffset = 124;

struct Entry {
  char name[96] = {};  // NUL-padded
  uint32_t dtype = 0;
  uint32_t ndim = 0;
  uint64_t shape[4] = {};
  uint64_t offset = 0;  // relative to the data section
  uint64_t size = 0;
  uint32_t crc32c = 0;
  uint32_t reserved = 0;
};

void encode_entry(const Entry& e, uint8_t* out);  // writes kEntrySize bytes
Entry decode_entry(const uint8_t* bytes);

// Largest element count of one tensor (any dimension and the product): keeps
// every size computation far from 64-bit overflow.
inline constexpr uint64_t kMaxElements = uint64_t{1} << 48;

// Bytes of a tensor of `type` and `shape` (outermost first): product of the
// leading dimensions times dtype_row_bytes of the last. nullopt when a
// dimension is 0 or above kMaxElements, the product exceeds kMaxElements, or
// the last dimension is not a valid row length for the type.
std::optional<uint64_t> tensor_byte_size(DType type, const uint64_t* shape, size_t ndim);

}  // namespace ernie::packed
