// POSIX (Linux) implementation of platform.h.
#include "platform/platform.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <utility>

#include "util/error.h"

namespace ernie {
namespace {

[[noreturn]] void io_fail(const std::string& what, const std::string& path) {
  ERNIE_FAIL(ERNIE_E_IO, "%s '%s': %s", what.c_str(), path.c_str(), std::strerror(errno));
}

constexpr uint64_t kHugePage = 2u << 20;

// A 2 MB-aligned range of `bytes` (rounded up to pages) of fresh address
// space, PROT_NONE; nullptr if none. Reserves 2 MB more and releases the
// unaligned head and the tail.
uint8_t* reserve_aligned(uint64_t bytes) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t span = (bytes + page - 1) / page * page;
  void* r = mmap(nullptr, span + kHugePage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) return nullptr;
  const auto base = reinterpret_cast<uintptr_t>(r);
  const uintptr_t at = (base + kHugePage - 1) / kHugePage * kHugePage;
  if (at > base) munmap(r, at - base);
  const uintptr_t end = at + span, r_end = base + span + kHugePage;
  if (r_end > end) munmap(reinterpret_cast<void*>(end), r_end - end);
  return reinterpret_cast<uint8_t*>(at);
}

// Maps a file read-only at a 2 MB-aligned address and asks for huge pages.
// A decoded token streams gigabytes of weights: with 4 KB pages every page
// costs a TLB miss and a page walk, which measured here as 2-3x slower
// decode. Where the page cache holds the file in 2 MB folios (ext4, XFS,
// btrfs on recent kernels read ahead in them for such a mapping) the
// kernel then maps whole folios with one entry; it needs the address and
// the file offset congruent mod 2 MB, hence the aligned placement. All of it
// is advisory: elsewhere this is a plain mapping.
void* map_file_huge_aligned(int fd, uint64_t size) {
  uint8_t* at = size >= kHugePage ? reserve_aligned(size) : nullptr;
  if (at == nullptr) return mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  // MAP_FIXED replaces our own reservation, nothing else.
  void* p = mmap(at, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    munmap(at, size);
    return MAP_FAILED;
  }
  madvise(p, size, MADV_HUGEPAGE);
  return p;
}

}  // namespace

std::unique_ptr<MappedFile> MappedFile::open(const std::string& path, bool use_mmap, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) io_fail("cannot open", path);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    io_fail("cannot stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    ERNIE_FAIL(ERNIE_E_IO, "'%s' is not a regular file", path.c_str());
  }
  if (max_bytes != 0 && static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    ERNIE_FAIL(ERNIE_E_OUT_OF_MEMORY, "'%s' has %llu bytes, more than the limit of %llu (max_file_bytes)",
               path.c_str(), static_cast<unsigned long long>(st.st_size), static_cast<unsigned long long>(max_bytes));
  }
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<uint64_t>(st.st_size);
  f->device_ = static_cast<uint64_t>(st.st_dev);
  f->inode_ = static_cast<uint64_t>(st.st_ino);
  if (f->size_ == 0) {
    ::close(fd);
    return f;
  }
  if (use_mmap) {
    void* p = map_file_huge_aligned(fd, f->size_);
    if (p == MAP_FAILED) {
      ::close(fd);
      io_fail("cannot map", path);
    }
    f->data_ = static_cast<const uint8_t*>(p);
    f->mapped_ = true;
  } else {
    void* p = alloc_streamed(f->size_);
    if (p == nullptr) {
      ::close(fd);
      ERNIE_FAIL(ERNIE_E_OUT_OF_MEMORY, "cannot allocate %llu bytes to read '%s'",
                 static_cast<unsigned long long>(f->size_), path.c_str());
    }
    auto* buf = static_cast<uint8_t*>(p);
    f->alloc_bytes_ = f->size_;
    f->data_ = buf;  // owned from here: the destructor unmaps on a failed read
    uint64_t done = 0;
    while (done < f->size_) {
      ssize_t r = ::pread(fd, buf + done, std::min<uint64_t>(f->size_ - done, 1u << 30), static_cast<off_t>(done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        ::close(fd);
        io_fail("cannot read", path);
      }
      done += static_cast<uint64_t>(r);
    }
  }
  ::close(fd);
  return f;
}

MappedFile::~MappedFile() {
  if (!data_) return;
  if (mapped_) {
    munmap(const_cast<uint8_t*>(data_), size_);
  } else {
    free_streamed(const_cast<uint8_t*>(data_), alloc_bytes_);
  }
}

void* alloc_streamed(uint64_t bytes) {
  if (bytes == 0) return nullptr;
  uint8_t* at = reserve_aligned(bytes);
  if (at == nullptr) return nullptr;
  // A fresh writable mapping over the reservation (not mprotect, which would
  // keep MAP_NORESERVE): the kernel's overcommit check applies as to malloc,
  // so an absurd size fails here instead of faulting later.
  if (mmap(at, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
    munmap(at, bytes);
    return nullptr;
  }
  madvise(at, bytes, MADV_HUGEPAGE);  // advisory: ignored where THP is off
  return at;
}

void free_streamed(void* p, uint64_t bytes) {
  if (p != nullptr) munmap(p, bytes);
}

bool MappedFile::unchanged_on_disk() const {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) return false;
  return static_cast<uint64_t>(st.st_size) == size_ && static_cast<uint64_t>(st.st_dev) == device_ &&
         static_cast<uint64_t>(st.st_ino) == inode_;
}

File::File(const std::string& path, Mode mode) : path_(path) {
  int flags = mode == Mode::Read ? O_RDONLY : (O_WRONLY | O_CREAT | O_TRUNC);
  fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd_ < 0) io_fail(mode == Mode::Read ? "cannot open" : "cannot create", path);
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t File::size() const {
  struct stat st {};
  if (fstat(fd_, &st) != 0) io_fail("cannot stat", path_);
  return static_cast<uint64_t>(st.st_size);
}

void File::read_at(uint64_t offset, void* dst, size_t n) const {
  auto* p = static_cast<uint8_t*>(dst);
  while (n > 0) {
    ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) io_fail("cannot read", path_);
    if (r == 0) {
      ERNIE_FAIL(ERNIE_E_INVALID_MODEL, "'%s' is truncated (unexpected end of file at byte %llu)",
                 path_.c_str(), static_cast<unsigned long long>(offset));
    }
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
}

void File::write_at(uint64_t offset, const void* src, size_t n) {
  auto* p = static_cast<const uint8_t*>(src);
  while (n > 0) {
    ssize_t r = ::pwrite(fd_, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) io_fail("cannot write", path_);
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
}

void File::sync() {
  if (fsync(fd_) != 0) io_fail("cannot flush", path_);
}

AtomicFile::AtomicFile(const std::string& final_path)
    : final_path_(final_path),
      temp_path_(final_path + ".tmp." + std::to_string(static_cast<long>(getpid()))) {
  file_ = std::make_unique<File>(temp_path_, File::Mode::WriteNew);
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    file_.reset();
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFile::commit() {
  file_->sync();
  file_.reset();
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    int e = errno;
    ::unlink(temp_path_.c_str());
    errno = e;
    io_fail("cannot rename the packed file into", final_path_);
  }
  committed_ = true;
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string path_join(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string read_small_file(const std::string& path, uint64_t max_bytes) {
  File f(path, File::Mode::Read);
  uint64_t n = f.size();
  ERNIE_CHECK(n <= max_bytes, ERNIE_E_INVALID_MODEL, "'%s' is %llu bytes, more than the %llu allowed",
              path.c_str(), static_cast<unsigned long long>(n), static_cast<unsigned long long>(max_bytes));
  std::string s(n, '\0');
  if (n) f.read_at(0, s.data(), n);
  return s;
}

int physical_core_count() {
  // Count distinct (package, core) pairs; fall back to logical CPUs.
  std::set<std::pair<int, int>> cores;
  unsigned n = std::thread::hardware_concurrency();
  for (unsigned cpu = 0; cpu < n; ++cpu) {
    std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream pkg(base + "physical_package_id"), core(base + "core_id");
    int p = -1, c = -1;
    if (!(pkg >> p) || !(core >> c)) return n > 0 ? static_cast<int>(n) : 1;
    cores.insert({p, c});
  }
  return cores.empty() ? 1 : static_cast<int>(cores.size());
}

uint64_t current_rss_bytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t pages_total = 0, pages_rss = 0;
  if (!(f >> pages_total >> pages_rss)) return 0;
  return pages_rss * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t peak_rss_bytes() {
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

void* library_open(const std::string& path, std::string* error) {
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h && error) {
    const char* e = dlerror();
    *error = e ? e : "unknown dlopen error";
  }
  return h;
}

void* library_symbol(void* library, const char* name) { return dlsym(library, name); }

void library_close(void* library) {
  if (library) dlclose(library);
}

uint64_t physical_memory_bytes() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

uint64_t available_memory_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (f >> key >> kib) {
    if (key == "MemAvailable:") return kib * 1024;
    std::getline(f, unit);  // the rest of the line ("kB")
  }
  return 0;
}

MappedPages parse_smaps_file_pages(const std::string& smaps, const std::string& canonical_path) {
  MappedPages pages;
  bool in_file = false;  // the last mapping header named the file
  size_t at = 0;
  while (at < smaps.size()) {
    size_t end = smaps.find('\n', at);
    if (end == std::string::npos) end = smaps.size();
    const std::string line = smaps.substr(at, end - at);
    at = end + 1;
    // A header is "start-end perms offset dev inode [path]"; a field line
    // is "Name:   value kB". Only headers have a '-' in their first word.
    const size_t word_end = line.find(' ');
    const std::string first = line.substr(0, word_end);
    if (first.find('-') != std::string::npos && first.back() != ':') {
      // The path starts after five space-separated fields.
      size_t pos = 0;
      for (int field = 0; field < 5 && pos != std::string::npos; ++field) {
        pos = line.find(' ', pos);
        if (pos != std::string::npos) pos = line.find_first_not_of(' ', pos);
      }
      in_file = pos != std::string::npos && line.compare(pos, std::string::npos, canonical_path) == 0;
      continue;
    }
    if (!in_file) continue;
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "Rss: %llu kB", &kib) == 1) pages.resident_bytes += kib * 1024;
    if (std::sscanf(line.c_str(), "FilePmdMapped: %llu kB", &kib) == 1) pages.huge_bytes += kib * 1024;
  }
  return pages;
}

MappedPages mapped_file_pages(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  if (!real) return {};
  const std::string canonical = real;
  std::free(real);
  std::ifstream f("/proc/self/smaps");
  if (!f) return {};
  const std::string smaps((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse_smaps_file_pages(smaps, canonical);
}

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

std::string library_file_name(const std::string& stem) { return "lib" + stem + ".so"; }

std::string this_module_directory() {
  // dladdr names the object that holds this function. For the main program
  // glibc reports argv[0], which may be relative: /proc/self/exe is exact.
  Dl_info info{};
  std::string path;
  if (dladdr(reinterpret_cast<void*>(&this_module_directory), &info) && info.dli_fname) path = info.dli_fname;
  if (path.empty() || path.find('/') == std::string::npos) {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    path = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  if (char* real = realpath(path.c_str(), nullptr)) {
    path = real;
    std::free(real);
  }
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
}

}  // namespace ernie
