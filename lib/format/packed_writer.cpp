#include "format/packed_writer.h"

#include <cstring>
#include <unordered_set>

#include "format/packed_layout.h"
#include "platform/platform.h"
#include "util/bytes.h"
#include "util/checksum.h"
#include "util/error.h"

namespace ernie {
namespace {

// Small sections are 8-byte aligned so a reader could use them in place.
constexpr uint64_t kSectionAlignment = 8;

void check_tensor_desc(const PackedTensorDesc& t, std::unordered_set<std::string>& seen) {
  const char* n = t.name.c_str();
  ERNIE_CHECK(!t.name.empty() && t.name.size() <= packed::kMaxNameBytes, ERNIE_E_INVALID_ARGUMENT,
              "tensor name '%s' must have 1 to %zu bytes", n, packed::kMaxNameBytes);
  for (char c : t.name) {
    ERNIE_CHECK(c > ' ' && c < 0x7f, ERNIE_E_INVALID_ARGUMENT, "tensor name '%s' is not printable ASCII", n);
  }
  ERNIE_CHECK(seen.insert(t.name).second, ERNIE_E_INVALID_ARGUMENT, "tensor '%s' is listed twice", n);
  ERNIE_CHECK(t.shape.size() >= 1 && t.shape.size() <= 4, ERNIE_E_INVALID_ARGUMENT,
              "tensor '%s' has %zu dimensions (1 to 4 allowed)", n, t.shape.size());
}

std::string serialize(const nlohmann::ordered_json& metadata) {
  return metadata.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

PackedWriter::PackedWriter(const std::string& path, const nlohmann::ordered_json& metadata,
                           std::string tokenizer_bytes, std::vector<PackedTensorDesc> tensors)
    : tensors_(std::move(tensors)), tokenizer_(std::move(tokenizer_bytes)) {
  ERNIE_CHECK(tensors_.size() <= UINT32_MAX / packed::kEntrySize, ERNIE_E_INVALID_ARGUMENT,
              "too many tensors (%zu)", tensors_.size());
  metadata_text_ = serialize(metadata);

  metadata_offset_ = packed::kHeaderSize;
  tokenizer_offset_ = align_up(metadata_offset_ + metadata_text_.size(), kSectionAlignment);
  directory_offset_ = align_up(tokenizer_offset_ + tokenizer_.size(), kSectionAlignment);
  data_offset_ = align_up(directory_offset_ + tensors_.size() * packed::kEntrySize, packed::kDataAlignment);

  std::unordered_set<std::string> seen;
  slots_.resize(tensors_.size());
  uint64_t cursor = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const PackedTensorDesc& t = tensors_[i];
    check_tensor_desc(t, seen);
    uint64_t dims[4] = {};
    for (size_t d = 0; d < t.shape.size(); ++d) dims[d] = t.shape[d] > 0 ? static_cast<uint64_t>(t.shape[d]) : 0;
    auto bytes = packed::tensor_byte_size(t.type, dims, t.shape.size());
    ERNIE_CHECK(bytes.has_value(), ERNIE_E_INVALID_ARGUMENT, "tensor '%s' has an invalid shape for dtype %s",
                t.name.c_str(), dtype_name(t.type));
    cursor = align_up(cursor, packed::kTensorAlignment);
    slots_[i].offset = cursor;
    slots_[i].size = *bytes;
    cursor += *bytes;
  }
  data_size_ = cursor;
  file_size_ = data_offset_ + data_size_;

  out_ = std::make_unique<AtomicFile>(path);
  write_at(metadata_offset_, metadata_text_.data(), metadata_text_.size());
  write_at(tokenizer_offset_, tokenizer_.data(), tokenizer_.size());
}

PackedWriter::~PackedWriter() = default;  // AtomicFile removes an uncommitted temp

void PackedWriter::write_at(uint64_t file_offset, const void* data, size_t n) {
  if (n > 0) out_->file().write_at(file_offset, data, n);
}

void PackedWriter::replace_metadata(const nlohmann::ordered_json& metadata) {
  std::string text = serialize(metadata);
  ERNIE_CHECK(text.size() == metadata_text_.size(), ERNIE_E_INTERNAL,
              "replacement metadata is %zu bytes, the laid-out section %zu", text.size(), metadata_text_.size());
  metadata_text_ = std::move(text);
  write_at(metadata_offset_, metadata_text_.data(), metadata_text_.size());
}

TensorSink PackedWriter::begin_tensor(size_t i) {
  ERNIE_CHECK(i < slots_.size(), ERNIE_E_INTERNAL, "begin_tensor(%zu): only %zu tensors", i, slots_.size());
  ERNIE_CHECK(slots_[i].state == 0, ERNIE_E_INTERNAL, "tensor '%s' was begun twice", tensors_[i].name.c_str());
  slots_[i].state = 1;
  return TensorSink(this, i, data_offset_ + slots_[i].offset, slots_[i].size);
}

void TensorSink::write(const void* data, size_t n) {
  ERNIE_CHECK(n <= remaining(), ERNIE_E_INTERNAL, "tensor '%s': %zu bytes written past its size",
              writer_->tensors_[index_].name.c_str(), n);
  writer_->write_at(offset_ + written_, data, n);
  crc_ = crc32c(data, n, crc_);
  written_ += n;
}

void TensorSink::end() {
  ERNIE_CHECK(written_ == size_, ERNIE_E_INTERNAL, "tensor '%s': %llu of %llu bytes written",
              writer_->tensors_[index_].name.c_str(), static_cast<unsigned long long>(written_),
              static_cast<unsigned long long>(size_));
  writer_->slots_[index_].crc = crc_;
  writer_->slots_[index_].state = 2;
}

void PackedWriter::finish() {
  std::string directory(tensors_.size() * packed::kEntrySize, '\0');
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const PackedTensorDesc& t = tensors_[i];
    ERNIE_CHECK(slots_[i].state == 2, ERNIE_E_INTERNAL, "tensor '%s' was not written", t.name.c_str());
    packed::Entry e;
    std::memcpy(e.name, t.name.data(), t.name.size());
    e.dtype = static_cast<uint32_t>(t.type);
    e.ndim = static_cast<uint32_t>(t.shape.size());
    for (size_t d = 0; d < t.shape.size(); ++d) e.shape[d] = static_cast<uint64_t>(t.shape[d]);
    e.offset = slots_[i].offset;
    e.size = slots_[i].size;
    e.crc32c = slots_[i].crc;
    packed::encode_entry(e, reinterpret_cast<uint8_t*>(&directory[i * packed::kEntrySize]));
  }
  write_at(directory_offset_, directory.data(), directory.size());
  // Explicit zero padding up to the data section: the file has its full
  // length even when the data section is empty.
  std::string padding(data_offset_ - (directory_offset_ + directory.size()), '\0');
  write_at(directory_offset_ + directory.size(), padding.data(), padding.size());

  packed::Header h;
  std::memcpy(h.magic, packed::kMagic, sizeof h.magic);
  h.format_version = packed::kFormatVersion;
  h.endian_check = packed::kEndianCheck;
  h.header_size = packed::kHeaderSize;
  h.data_alignment = packed::kDataAlignment;
  h.file_size = file_size_;
  h.metadata = {metadata_offset_, metadata_text_.size()};
  h.tokenizer = {tokenizer_offset_, tokenizer_.size()};
  h.directory = {directory_offset_, directory.size()};
  h.data = {data_offset_, data_size_};
  h.metadata_crc = crc32c(metadata_text_.data(), metadata_text_.size());
  h.tokenizer_crc = crc32c(tokenizer_.data(), tokenizer_.size());
  h.directory_crc = crc32c(directory.data(), directory.size());
  h.tensor_count = static_cast<uint32_t>(tensors_.size());
  auto header = packed::encode_header(h);
  write_at(0, header.data(), header.size());
  out_->commit();
}

}  // namespace ernie
