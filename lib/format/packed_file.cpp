// Reader of the packed format. Everything in the file is untrusted: each
// size and offset is checked (without overflow) before it is used to index
// the mapping, and the checksums of header, metadata, tokenizer and directory
// are verified before their contents are parsed.
#include "format/packed_file.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "format/packed_layout.h"
#include "platform/platform.h"
#include "util/bytes.h"
#include "util/checksum.h"
#include "util/error.h"
#include "util/json.h"

namespace ernie {
namespace {

using packed::Header;
using packed::Section;

// Errors name the file: "packed model '<path>': <reason>".
#define PK_CHECK(cond, status, fmt, ...) \
  ERNIE_CHECK((cond), (status), "packed model '%s': " fmt, path.c_str(), ##__VA_ARGS__)

using ull = unsigned long long;

void check_cancel(const ProgressCallback& progress, float value) {
  if (progress && !progress(value)) ERNIE_FAIL(ERNIE_E_CANCELLED, "loading was cancelled");
}

void check_header(const Header& h, const uint8_t* raw, uint64_t actual_size, const std::string& path) {
  PK_CHECK(std::memcmp(h.magic, packed::kMagic, sizeof packed::kMagic) == 0, ERNIE_E_INVALID_MODEL,
           "not an ernie packed model (bad magic)");
  PK_CHECK(h.endian_check == packed::kEndianCheck, ERNIE_E_INVALID_MODEL,
           "endian check is 0x%08x, expected 0x%08x (written on a machine of the other byte order, or corrupt)",
           h.endian_check, packed::kEndianCheck);
  PK_CHECK(h.format_version != 0, ERNIE_E_INVALID_MODEL, "format version 0 is invalid");
  PK_CHECK(h.format_version <= packed::kFormatVersion, ERNIE_E_UNSUPPORTED,
           "format version %u is newer than this library supports (%u)", h.format_version,
           packed::kFormatVersion);
  uint32_t crc = crc32c(raw, packed::kHeaderCrcOffset);
  PK_CHECK(crc == h.header_crc, ERNIE_E_CHECKSUM, "header checksum mismatch (stored 0x%08x, computed 0x%08x)",
           h.header_crc, crc);
  PK_CHECK(h.header_size == packed::kHeaderSize, ERNIE_E_INVALID_MODEL, "header size %u, expected %u",
           h.header_size, packed::kHeaderSize);
  PK_CHECK(h.flags == 0, ERNIE_E_UNSUPPORTED, "header flags 0x%08x are not supported", h.flags);
  PK_CHECK(std::all_of(std::begin(h.reserved), std::end(h.reserved), [](uint8_t b) { return b == 0; }),
           ERNIE_E_INVALID_MODEL, "reserved header bytes are not zero");
  PK_CHECK(h.file_size <= actual_size, ERNIE_E_INVALID_MODEL,
           "file is truncated: the header says %llu bytes, the file has %llu", static_cast<ull>(h.file_size),
           static_cast<ull>(actual_size));
  PK_CHECK(h.file_size == actual_size, ERNIE_E_INVALID_MODEL,
           "file has %llu bytes but the header says %llu (bytes appended?)", static_cast<ull>(actual_size),
           static_cast<ull>(h.file_size));
  const uint32_t a = h.data_alignment;
  PK_CHECK(a >= packed::kTensorAlignment && a <= (1u << 20) && (a & (a - 1)) == 0, ERNIE_E_INVALID_MODEL,
           "data alignment %u is not a power of two in [64, 1 MiB]", a);
}

// Every section lies inside the file after the header, and no two overlap.
void check_sections(const Header& h, const std::string& path) {
  struct Named {
    const char* name;
    Section s;
  };
  Named all[] = {{"metadata", h.metadata}, {"tokenizer", h.tokenizer}, {"directory", h.directory}, {"data", h.data}};
  for (const Named& n : all) {
    uint64_t end = 0;
    PK_CHECK(checked_add(n.s.offset, n.s.size, &end) && n.s.offset >= h.header_size && end <= h.file_size,
             ERNIE_E_INVALID_MODEL, "%s section [%llu, +%llu) lies outside the file (%llu bytes)", n.name,
             static_cast<ull>(n.s.offset), static_cast<ull>(n.s.size), static_cast<ull>(h.file_size));
  }
  std::sort(std::begin(all), std::end(all), [](const Named& x, const Named& y) { return x.s.offset < y.s.offset; });
  for (size_t i = 1; i < std::size(all); ++i) {
    PK_CHECK(all[i - 1].s.offset + all[i - 1].s.size <= all[i].s.offset, ERNIE_E_INVALID_MODEL,
             "%s and %s sections overlap", all[i - 1].name, all[i].name);
  }
  PK_CHECK(h.data.offset % h.data_alignment == 0, ERNIE_E_INVALID_MODEL,
           "data section offset %llu is not a multiple of the data alignment %u", static_cast<ull>(h.data.offset),
           h.data_alignment);
  uint64_t dir_bytes = static_cast<uint64_t>(h.tensor_count) * packed::kEntrySize;
  PK_CHECK(h.directory.size == dir_bytes, ERNIE_E_INVALID_MODEL,
           "directory is %llu bytes, expected %u entries of %u bytes", static_cast<ull>(h.directory.size),
           h.tensor_count, packed::kEntrySize);
}

void check_section_crc(const uint8_t* base, const Section& s, uint32_t stored, const char* name,
                       const std::string& path) {
  uint32_t crc = crc32c(base + s.offset, s.size);
  PK_CHECK(crc == stored, ERNIE_E_CHECKSUM, "%s checksum mismatch (stored 0x%08x, computed 0x%08x)", name, stored, crc);
}

std::string entry_name(const packed::Entry& e, size_t index, const std::string& path) {
  const char* end = static_cast<const char*>(std::memchr(e.name, '\0', sizeof e.name));
  PK_CHECK(end != nullptr, ERNIE_E_INVALID_MODEL, "directory entry %zu: name is not NUL-terminated", index);
  std::string name(e.name, end);
  PK_CHECK(!name.empty(), ERNIE_E_INVALID_MODEL, "directory entry %zu: empty name", index);
  for (char c : name) {
    PK_CHECK(c > ' ' && c < 0x7f, ERNIE_E_INVALID_MODEL,
             "directory entry %zu: name has a byte 0x%02x that is not printable ASCII", index,
             static_cast<unsigned>(static_cast<uint8_t>(c)));
  }
  PK_CHECK(std::all_of(end, e.name + sizeof e.name, [](char c) { return c == '\0'; }), ERNIE_E_INVALID_MODEL,
           "directory entry %zu ('%s'): name padding is not NUL", index, name.c_str());
  return name;
}

TensorInfo decode_tensor(const packed::Entry& e, size_t index, const Section& data, const std::string& path) {
  TensorInfo t;
  t.name = entry_name(e, index, path);
  const char* n = t.name.c_str();
  PK_CHECK(dtype_known(e.dtype), ERNIE_E_UNSUPPORTED,
           "tensor '%s' has dtype %u, unknown to this library (written by a newer version?)", n, e.dtype);
  t.type = static_cast<DType>(e.dtype);
  PK_CHECK(e.ndim >= 1 && e.ndim <= 4, ERNIE_E_INVALID_MODEL, "tensor '%s' has %u dimensions (1 to 4 allowed)", n,
           e.ndim);
  for (uint32_t d = e.ndim; d < 4; ++d) {
    PK_CHECK(e.shape[d] == 0, ERNIE_E_INVALID_MODEL, "tensor '%s': unused shape entry %u is not 0", n, d);
  }
  auto bytes = packed::tensor_byte_size(t.type, e.shape, e.ndim);
  PK_CHECK(bytes.has_value(), ERNIE_E_INVALID_MODEL,
           "tensor '%s' has an invalid shape (a zero or absurd dimension, or a row length its dtype %s cannot "
           "store)",
           n, dtype_name(t.type));
  PK_CHECK(*bytes == e.size, ERNIE_E_INVALID_MODEL, "tensor '%s' is %llu bytes, its shape and dtype need %llu", n,
           static_cast<ull>(e.size), static_cast<ull>(*bytes));
  PK_CHECK(e.offset % packed::kTensorAlignment == 0, ERNIE_E_INVALID_MODEL,
           "tensor '%s' offset %llu is not a multiple of %llu", n, static_cast<ull>(e.offset),
           static_cast<ull>(packed::kTensorAlignment));
  PK_CHECK(e.offset <= data.size && e.size <= data.size - e.offset, ERNIE_E_INVALID_MODEL,
           "tensor '%s' [%llu, +%llu) lies outside the data section (%llu bytes)", n, static_cast<ull>(e.offset),
           static_cast<ull>(e.size), static_cast<ull>(data.size));
  PK_CHECK(e.reserved == 0, ERNIE_E_INVALID_MODEL, "tensor '%s': reserved field is not 0", n);
  for (uint32_t d = 0; d < e.ndim; ++d) t.shape.push_back(static_cast<int64_t>(e.shape[d]));
  t.offset = data.offset + e.offset;
  t.size = e.size;
  t.crc32c = e.crc32c;
  return t;
}

std::vector<TensorInfo> read_directory(const uint8_t* base, const Header& h, const std::string& path) {
  std::vector<TensorInfo> tensors;
  tensors.reserve(h.tensor_count);
  std::unordered_set<std::string> names;
  for (uint32_t i = 0; i < h.tensor_count; ++i) {
    auto e = packed::decode_entry(base + h.directory.offset + static_cast<uint64_t>(i) * packed::kEntrySize);
    TensorInfo t = decode_tensor(e, i, h.data, path);
    PK_CHECK(names.insert(t.name).second, ERNIE_E_INVALID_MODEL, "tensor '%s' appears twice in the directory",
             t.name.c_str());
    tensors.push_back(std::move(t));
  }
  // No two tensors may share bytes.
  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    PK_CHECK(by_offset[i - 1]->offset + by_offset[i - 1]->size <= by_offset[i]->offset, ERNIE_E_INVALID_MODEL,
             "tensors '%s' and '%s' overlap", by_offset[i - 1]->name.c_str(), by_offset[i]->name.c_str());
  }
  return tensors;
}

}  // namespace

std::unique_ptr<PackedFile> PackedFile::open(const std::string& path, bool use_mmap,
                                             const ProgressCallback& progress, uint64_t max_bytes) {
  check_cancel(progress, 0.0f);
  std::unique_ptr<PackedFile> pf(new PackedFile());
  pf->file_ = MappedFile::open(path, use_mmap, max_bytes);
  check_cancel(progress, 0.5f);
  const uint8_t* base = pf->file_->data();
  const uint64_t size = pf->file_->size();
  PK_CHECK(size >= packed::kHeaderSize, ERNIE_E_INVALID_MODEL,
           "file is truncated: %llu bytes, shorter than the %u-byte header", static_cast<ull>(size),
           packed::kHeaderSize);

  const Header h = packed::decode_header(base);
  check_header(h, base, size, path);
  check_sections(h, path);
  check_section_crc(base, h.metadata, h.metadata_crc, "metadata", path);
  check_section_crc(base, h.tokenizer, h.tokenizer_crc, "tokenizer", path);
  check_section_crc(base, h.directory, h.directory_crc, "directory", path);
  check_cancel(progress, 0.8f);

  pf->format_version_ = h.format_version;
  pf->metadata_text_.assign(reinterpret_cast<const char*>(base + h.metadata.offset), h.metadata.size);
  std::string what = "packed model '" + path + "': metadata";
  pf->metadata_ = parse_json(pf->metadata_text_, what.c_str());
  PK_CHECK(pf->metadata_.is_object(), ERNIE_E_INVALID_MODEL, "metadata is not a JSON object");
  pf->tokenizer_offset_ = h.tokenizer.offset;
  pf->tokenizer_size_ = h.tokenizer.size;
  pf->tensors_ = read_directory(base, h, path);
  for (size_t i = 0; i < pf->tensors_.size(); ++i) pf->index_.emplace(pf->tensors_[i].name, i);
  check_cancel(progress, 1.0f);
  return pf;
}

PackedFile::~PackedFile() = default;

std::string_view PackedFile::tokenizer_bytes() const {
  return {reinterpret_cast<const char*>(file_->data() + tokenizer_offset_), tokenizer_size_};
}

const TensorInfo* PackedFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const void* PackedFile::data(const TensorInfo& t) const { return file_->data() + t.offset; }

uint64_t PackedFile::file_size() const { return file_->size(); }

void PackedFile::verify_tensor(const TensorInfo& t) const {
  // A mapped file cut short under us would fault on access: refuse first.
  ERNIE_CHECK(file_->unchanged_on_disk(), ERNIE_E_IO,
              "the packed model file changed on disk since it was opened (truncated or replaced)");
  uint32_t crc = crc32c(data(t), t.size);
  ERNIE_CHECK(crc == t.crc32c, ERNIE_E_CHECKSUM, "tensor '%s': checksum mismatch (stored 0x%08x, computed 0x%08x)",
              t.name.c_str(), t.crc32c, crc);
}

}  // namespace ernie
