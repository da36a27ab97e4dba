// The platform layer: every operating-system call the core makes (files,
// memory mapping, dynamic loading, CPU topology) goes through this folder, so a
// Windows or macOS port replaces these files and nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ernie {

// A read-only view of a whole file: memory-mapped, or read into memory.
class MappedFile {
 public:
  // Throws ernie::Error(ERNIE_E_IO) with the path and the OS reason, and
  // ERNIE_E_OUT_OF_MEMORY for a file larger than `max_bytes` (0: no limit),
  // checked before anything is mapped or allocated.
  static std::unique_ptr<MappedFile> open(const std::string& path, bool use_mmap, uint64_t max_bytes = 0);
  ~MappedFile();
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  // Re-checks that the file on disk still has the size and identity it had at
  // open, so a file truncated or replaced under a mapping is detected.
  bool unchanged_on_disk() const;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  bool mapped_ = false;
  uint64_t alloc_bytes_ = 0;  // read into memory: the anonymous mapping's size
  std::string path_;
  uint64_t device_ = 0, inode_ = 0;
};

// Sequential and positional file I/O with errors as ernie::Error(ERNIE_E_IO).
class File {
 public:
  enum class Mode { Read, WriteNew };
  File(const std::string& path, Mode mode);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  uint64_t size() const;
  // Reads exactly n bytes at offset or throws (ERNIE_E_INVALID_MODEL on EOF).
  void read_at(uint64_t offset, void* dst, size_t n) const;
  void write_at(uint64_t offset, const void* src, size_t n);
  void sync();
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// Writes through a temporary file next to `final_path`; commit() flushes it
// and renames it into place. Destroyed without commit(), it removes the temp.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& final_path);
  ~AtomicFile();
  File& file() { return *file_; }
  void commit();

 private:
  std::string final_path_, temp_path_;
  std::unique_ptr<File> file_;
  bool committed_ = false;
};

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
std::string path_join(const std::string& dir, const std::string& name);
// Whole small file into a string; refuses files above max_bytes (ERNIE_E_INVALID_MODEL).
std::string read_small_file(const std::string& path, uint64_t max_bytes);

// Memory for large buffers that are streamed every token (the KV cache, a
// model read into memory): anonymous, 2 MB-aligned, with huge pages advised
// so reading it costs no TLB walk per 4 KB. Pages are zero and taken only
// when first touched. nullptr when the OS refuses; free with free_streamed
// and the same size.
void* alloc_streamed(uint64_t bytes);
void free_streamed(void* p, uint64_t bytes);

int physical_core_count();
// Resident set size of this process now and at its peak, in bytes (0 if unknown).
uint64_t current_rss_bytes();
uint64_t peak_rss_bytes();

// This process's mappings of the file at `path`: the bytes resident, and the
// part of them mapped through huge (PMD-size) pages. A mapped model streams
// faster from memory in 2 MB pages (no page walk per 4 KB); which size the
// kernel used depends on how the page cache got the file. Both 0 where the
// OS does not tell (not Linux) or nothing of the file is mapped.
struct MappedPages {
  uint64_t resident_bytes = 0;
  uint64_t huge_bytes = 0;
};
MappedPages mapped_file_pages(const std::string& path);
// The parser behind it: the text of /proc/<pid>/smaps and the file's
// canonical path (exported for tests).
MappedPages parse_smaps_file_pages(const std::string& smaps, const std::string& canonical_path);

// Physical memory of the machine and the part the OS could give now without
// swapping (MemAvailable on Linux), in bytes (0 if unknown).
uint64_t physical_memory_bytes();
uint64_t available_memory_bytes();
// The CPU's model name ("AMD EPYC 9654 96-Core Processor"); "" if unknown.
std::string cpu_model_name();

// Dynamic libraries (backend plugins). library_open loads with symbols local
// to the library (a plugin's dependencies cannot clash with the host's).
void* library_open(const std::string& path, std::string* error);
void* library_symbol(void* library, const char* name);
void library_close(void* library);
// "lib<stem>.so" on Linux: the file name of a plugin library.
std::string library_file_name(const std::string& stem);
// The directory of the binary this code is linked into: libernie.so's, or
// the executable's when the core is linked statically. "" if unknown.
std::string this_module_directory();

}  // namespace ernie
