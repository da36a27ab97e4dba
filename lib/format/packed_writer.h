// Writing a packed model file (layout: docs/format.md). The writer lays out
// the whole file from the tensor list up front, so tensor bytes can then be
// streamed in any order, from several threads at once, straight to their
// final offsets; nothing of a tensor is held in memory. The file appears at
// its path only when finish() succeeds (temp file + rename); a writer
// destroyed earlier removes its temp file and leaves the path untouched.
// Output is deterministic: the same inputs give the same bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/dtype.h"

namespace ernie {

class AtomicFile;
class PackedWriter;

struct PackedTensorDesc {
  std::string name;            // printable ASCII, 1..95 bytes, unique
  DType type = DType::F32;
  std::vector<int64_t> shape;  // 1..4 dimensions, outermost first
};

// Receives one tensor's bytes, in order, in chunks of any size, and keeps the
// running checksum. Obtained from PackedWriter::begin_tensor; one thread at a
// time per sink.
class TensorSink {
 public:
  void write(const void* data, size_t n);
  // Checks that exactly the tensor's size was written and records its CRC.
  void end();
  uint64_t remaining() const { return size_ - written_; }

 private:
  friend class PackedWriter;
  TensorSink(PackedWriter* writer, size_t index, uint64_t offset, uint64_t size)
      : writer_(writer), index_(index), offset_(offset), size_(size) {}
  PackedWriter* writer_;
  size_t index_;
  uint64_t offset_, size_;
  uint64_t written_ = 0;
  uint32_t crc_ = 0;
};

class PackedWriter {
 public:
  // Validates the tensor list (ERNIE_E_INVALID_ARGUMENT), creates the temp
  // file next to `path` and writes metadata and tokenizer sections.
  PackedWriter(const std::string& path, const nlohmann::ordered_json& metadata, std::string tokenizer_bytes,
               std::vector<PackedTensorDesc> tensors);
  ~PackedWriter();
  PackedWriter(const PackedWriter&) = delete;
  PackedWriter& operator=(const PackedWriter&) = delete;

  size_t tensor_count() const { return tensors_.size(); }
  const PackedTensorDesc& tensor(size_t i) const { return tensors_[i]; }
  uint64_t tensor_size(size_t i) const { return slots_[i].size; }
  uint64_t file_size() const { return file_size_; }

  // Replaces the metadata before finish(). Its serialization must have the
  // same length as the original's: for values known only after streaming
  // that have a fixed width (the packer's 8-hex-digit source checksums).
  void replace_metadata(const nlohmann::ordered_json& metadata);

  // Starts tensor i (each exactly once). Sinks of different tensors may be
  // used concurrently from different threads.
  TensorSink begin_tensor(size_t i);

  // Requires every tensor to have ended; writes the directory and header,
  // flushes and renames the file into place.
  void finish();

 private:
  friend class TensorSink;
  struct Slot {
    uint64_t offset = 0;  // relative to the data section
    uint64_t size = 0;
    uint32_t crc = 0;
    uint8_t state = 0;  // 0 not begun, 1 begun, 2 ended (uint8_t: no vector<bool> races)
  };
  void write_at(uint64_t file_offset, const void* data, size_t n);

  std::unique_ptr<AtomicFile> out_;
  std::vector<PackedTensorDesc> tensors_;
  std::vector<Slot> slots_;
  std::string metadata_text_, tokenizer_;
  uint64_t metadata_offset_ = 0, tokenizer_offset_ = 0, directory_offset_ = 0, data_offset_ = 0;
  uint64_t data_size_ = 0, file_size_ = 0;
};

}  // namespace ernie
