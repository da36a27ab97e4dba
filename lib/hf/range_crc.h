// The CRC-32C of a whole file, joined from the checksums of byte ranges read
// in any order and from any thread (the packer reads a checkpoint in tensor
// order, not file order). Only the bytes no range covered are read again.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace ernie {

class FileCrcBuilder {
 public:
  // Records that bytes [offset, offset + size) have checksum `crc`. Thread-safe.
  void add(uint64_t offset, uint64_t size, uint32_t crc);

  // Reads the uncovered bytes through `read(offset, dst, n)` in pieces of at
  // most buffer.size() bytes (calling `on_read(n)` after each) and returns
  // the checksum of bytes [0, file_size). Ranges beyond file_size are ignored.
  using ReadFn = std::function<void(uint64_t offset, void* dst, size_t n)>;
  uint32_t finish(uint64_t file_size, const ReadFn& read, std::vector<uint8_t>& buffer,
                  const std::function<void(uint64_t)>& on_read);

 private:
  struct Range {
    uint64_t offset, size;
    uint32_t crc;
  };
  std::mutex mutex_;
  std::vector<Range> ranges_;
};

}  // namespace ernie
