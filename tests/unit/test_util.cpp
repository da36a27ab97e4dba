// utf8, the thread pool and mapped files.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "support/test_util.h"
#include "util/error.h"
#include "util/thread_pool.h"
#include "util/utf8.h"

using namespace ernie;

TEST_CASE("utf8: validation") {
  size_t bad = 0;
  CHECK(utf8_valid("plain ascii"));
  CHECK(utf8_valid("数字 ünïcödé 🌍"));
  CHECK(!utf8_valid("\xc0\x80", &bad));  // overlong NUL
  CHECK(bad == 0);
  CHECK(!utf8_valid("ab\xed\xa0\x80", &bad));  // surrogate
  CHECK(bad == 2);
  CHECK(!utf8_valid("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK(!utf8_valid("\xe4\xb8"));          // truncated
  CHECK(!utf8_valid("\x80"));
  CHECK(utf8_valid(std::string("a\0b", 3)));
}

TEST_CASE("utf8: complete prefix never splits a character") {
  std::string s = "a数🌍";  // 1 + 3 + 4 bytes
  CHECK(utf8_complete_prefix(s) == s.size());
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    size_t p = utf8_complete_prefix(s.substr(0, cut));
    CHECK(utf8_valid(s.substr(0, p)));
    CHECK(p <= cut);
    CHECK(cut - p < 4);
  }
  CHECK(utf8_complete_prefix(s.substr(0, 3)) == 1);
  CHECK(utf8_complete_prefix(s.substr(0, 7)) == 4);
}

TEST_CASE("quote_name: printable ASCII kept, other bytes escaped, long names cut") {
  CHECK(ernie::quote_name("cpu") == "'cpu'");
  CHECK(ernie::quote_name("") == "''");
  CHECK(ernie::quote_name("a\xff\x01\\b") == "'a\\xff\\x01\\x5cb'");
  CHECK(ernie::quote_name(std::string(64, 'z')) == "'" + std::string(64, 'z') + "'");
  CHECK(ernie::quote_name(std::string(65, 'z')) == "'" + std::string(64, 'z') + "...'");
  const std::string hostile = ernie::quote_name(std::string(1000, '\x80'));
  CHECK(hostile.size() == 2 + 64 * 4 + 3);
  CHECK(ernie::utf8_valid(hostile));
}

TEST_CASE("thread pool: every task runs once, repeatedly, for any thread count") {
  for (int threads : {1, 2, 5}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    for (int round = 0; round < 50; ++round) {
      std::vector<std::atomic<int>> hits(97);
      std::atomic<int> bad_thread{0};
      pool.parallel_for(97, [&](int64_t t, int thread) {
        hits[static_cast<size_t>(t)]++;
        if (thread < 0 || thread >= threads) bad_thread++;
      });
      for (auto& h : hits) CHECK(h.load() == 1);
      CHECK(bad_thread.load() == 0);
    }
    pool.parallel_for(0, [](int64_t, int) { FAIL("no task expected"); });
  }
}

TEST_CASE("mapped file: 2 MB-aligned when mapped, same bytes either way") {
  // Weights are streamed every token: a mapping at a 2 MB boundary lets the
  // kernel use huge pages for it (posix.cpp). Sizes around the boundary.
  test::TempDir dir;
  for (uint64_t size : {uint64_t{100}, uint64_t{2} << 20, (uint64_t{3} << 20) + 123}) {
    std::string bytes(size, '\0');
    for (uint64_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
    std::string name = "f";
    name += std::to_string(size);
    const std::string path = dir.file(name);
    test::write_file(path, bytes);
    for (bool use_mmap : {true, false}) {
      CAPTURE(size);
      CAPTURE(use_mmap);
      for (int round = 0; round < 3; ++round) {  // repeated opens/closes release their address space
        auto f = MappedFile::open(path, use_mmap);
        REQUIRE(f->size() == size);
        CHECK(std::memcmp(f->data(), bytes.data(), size) == 0);
        if (use_mmap && size >= (uint64_t{2} << 20)) CHECK(reinterpret_cast<uintptr_t>(f->data()) % (2u << 20) == 0);
      }
    }
  }
}

TEST_CASE("mapped file pages: resident and huge-page bytes of one file's mappings") {
  // smaps as Linux writes it: two mappings of the model (one whose path has
  // a space), one of another file whose name extends the model's, one anon.
  const std::string smaps =
      "7f0000000000-7f0000400000 r--p 00000000 fd:01 1234                       /m/model file.ernie\n"
      "Size:               4096 kB\n"
      "Rss:                4096 kB\n"
      "FilePmdMapped:      2048 kB\n"
      "VmFlags: rd mr mw me hg\n"
      "7f0000400000-7f0000600000 r--p 00400000 fd:01 1234                       /m/model file.ernie\n"
      "Rss:                1000 kB\n"
      "FilePmdMapped:         0 kB\n"
      "7f0000600000-7f0000800000 r--p 00000000 fd:01 99                         /m/model file.ernie.bak\n"
      "Rss:                2048 kB\n"
      "FilePmdMapped:      2048 kB\n"
      "7f0000800000-7f0000a00000 rw-p 00000000 00:00 0 \n"
      "Rss:                2048 kB\n"
      "AnonHugePages:      2048 kB\n";
  const MappedPages pages = parse_smaps_file_pages(smaps, "/m/model file.ernie");
  CHECK(pages.resident_bytes == 5096ull * 1024);
  CHECK(pages.huge_bytes == 2048ull * 1024);
  CHECK(parse_smaps_file_pages(smaps, "/m/other").resident_bytes == 0);
  CHECK(parse_smaps_file_pages("", "/m/model file.ernie").resident_bytes == 0);

  // This process's own mapping of a file: all of it resident once read.
  test::TempDir dir;
  const std::string path = dir.file("mapped");
  test::write_file(path, std::string(size_t{3} << 20, 'x'));
  auto f = MappedFile::open(path, true);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < f->size(); i += 4096) sum += f->data()[i];
  CHECK(sum == 'x' * (f->size() / 4096));
  const MappedPages mine = mapped_file_pages(path);
  CHECK(mine.resident_bytes == f->size());
  CHECK(mine.huge_bytes <= mine.resident_bytes);
  CHECK(mapped_file_pages(dir.file("absent")).resident_bytes == 0);
}

TEST_CASE("streamed memory: 2 MB-aligned, zeroed, writable, absurd sizes refused") {
  // The KV cache and a model read without mmap live here (alloc_streamed).
  for (uint64_t size : {uint64_t{1}, uint64_t{2} << 20, (uint64_t{5} << 20) + 7}) {
    CAPTURE(size);
    auto* p = static_cast<uint8_t*>(alloc_streamed(size));
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(p) % (2u << 20) == 0);
    CHECK(p[0] == 0);
    CHECK(p[size - 1] == 0);
    std::memset(p, 0x5a, size);
    CHECK(p[size / 2] == 0x5a);
    free_streamed(p, size);
  }
  CHECK(alloc_streamed(0) == nullptr);
  // Far beyond any machine's memory and address space: a clean nullptr, no fault later.
  CHECK(alloc_streamed(uint64_t{1} << 62) == nullptr);
}
