// Reading a packed model file (layout: docs/format.md). Opening checks the
// header, sizes and the checksums of metadata, tokenizer and directory before
// any of them is parsed; tensor data is checked on demand (verify_tensor).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/dtype.h"

namespace ernie {

class MappedFile;  // platform/mapped_file.h

struct TensorInfo {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> shape;  // outermost first
  uint64_t offset = 0;         // absolute offset in the file
  uint64_t size = 0;           // bytes
  uint32_t crc32c = 0;         // of the tensor's bytes
};

// Returns false to cancel.
using ProgressCallback = std::function<bool(float)>;

class PackedFile {
 public:
  // Throws ernie::Error: ERNIE_E_IO (cannot open/read), ERNIE_E_INVALID_MODEL
  // (not a packed file, truncated, bad sizes or offsets), ERNIE_E_CHECKSUM,
  // ERNIE_E_UNSUPPORTED (newer format version, unknown dtype),
  // ERNIE_E_CANCELLED (progress returned false).
  // A file larger than `max_bytes` (0: no limit) is refused with
  // ERNIE_E_OUT_OF_MEMORY before it is mapped or read.
  static std::unique_ptr<PackedFile> open(const std::string& path, bool use_mmap,
                                          const ProgressCallback& progress = {}, uint64_t max_bytes = 0);
  ~PackedFile();

  const nlohmann::ordered_json& metadata() const { return metadata_; }
  const std::string& metadata_text() const { return metadata_text_; }
  std::string_view tokenizer_bytes() const;
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(std::string_view name) const;  // nullptr if absent
  const void* data(const TensorInfo& t) const;
  uint64_t file_size() const;
  uint32_t format_version() const { return format_version_; }

  // Throws ERNIE_E_CHECKSUM naming the tensor if its bytes do not match.
  void verify_tensor(const TensorInfo& t) const;

 private:
  PackedFile() = default;
  std::unique_ptr<MappedFile> file_;
  uint32_t format_version_ = 0;
  nlohmann::ordered_json metadata_;
  std::string metadata_text_;
  uint64_t tokenizer_offset_ = 0, tokenizer_size_ = 0;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> index_;  // name -> position in tensors_
};

}  // namespace ernie
