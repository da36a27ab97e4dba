#include "hf/range_crc.h"

#include <algorithm>

#include "util/checksum.h"

namespace ernie {

void FileCrcBuilder::add(uint64_t offset, uint64_t size, uint32_t crc) {
  std::lock_guard<std::mutex> lock(mutex_);
  ranges_.push_back({offset, size, crc});
}

uint32_t FileCrcBuilder::finish(uint64_t file_size, const ReadFn& read, std::vector<uint8_t>& buffer,
                                const std::function<void(uint64_t)>& on_read) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.offset < b.offset; });
  uint32_t crc = 0;
  uint64_t cursor = 0;  // bytes [0, cursor) are in crc
  auto read_up_to = [&](uint64_t end) {
    while (cursor < end) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(end - cursor, buffer.size()));
      read(cursor, buffer.data(), n);
      crc = crc32c(buffer.data(), n, crc);
      cursor += n;
      if (on_read) on_read(n);
    }
  };
  for (const Range& r : ranges_) {
    if (r.offset + r.size > file_size) continue;
    read_up_to(r.offset);
    // A range overlapping what is already counted is skipped; any of its
    // bytes beyond the cursor are read as part of the next gap.
    if (r.offset == cursor) {
      crc = crc32c_combine(crc, r.crc, r.size);
      cursor += r.size;
    }
  }
  read_up_to(file_size);
  ranges_.clear();
  return crc;
}

}  // namespace ernie
