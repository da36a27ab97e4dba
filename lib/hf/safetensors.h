// Reading the header of a safetensors file (an 8-byte little-endian header
// length, a JSON header, then the tensor bytes) and reading tensor bytes with
// positional reads into caller buffers. The file is deliberately not mapped:
// mapped pages of a 42 GB checkpoint would count in the packer's RSS.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/dtype.h"

namespace ernie {

class File;

struct SafetensorsTensor {
  std::string name;
  std::string dtype_name;      // as written: "BF16", "F32", "I8", ...
  std::optional<DType> dtype;  // set for the types the SDK reads (BF16, F16, F32)
  std::vector<int64_t> shape;
  uint64_t offset = 0;  // absolute offset of the first byte in the file
  uint64_t size = 0;    // bytes
  uint64_t elements() const;
};

class SafetensorsFile {
 public:
  // Largest header accepted (the limit of the reference implementation).
  static constexpr uint64_t kMaxHeaderBytes = 100u << 20;

  // Opens the file and checks its header: every tensor's dtype is a
  // safetensors type (ERNIE_E_UNSUPPORTED naming tensor and dtype otherwise),
  // its shape and data offsets agree and lie inside the file
  // (ERNIE_E_INVALID_MODEL). "__metadata__" is ignored.
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;

  const std::string& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }
  uint64_t data_start() const { return data_start_; }  // 8 + header length
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;  // nullptr if absent

  // Reads `n` bytes at absolute `offset` (pread; safe from several threads).
  void read(uint64_t offset, void* dst, size_t n) const;

 private:
  std::string path_;
  std::unique_ptr<File> file_;
  uint64_t file_size_ = 0, data_start_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace ernie
