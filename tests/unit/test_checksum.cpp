#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "util/checksum.h"

using namespace ernie;

TEST_CASE("crc32c: standard check values") {
  CHECK(crc32c("123456789", 9) == 0xE3069283u);
  CHECK(crc32c("", 0) == 0u);
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), inc(32);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<uint8_t>(i);
  // RFC 3720 (iSCSI) appendix B.4 test vectors.
  CHECK(crc32c(zeros.data(), 32) == 0x8A9136AAu);
  CHECK(crc32c(ones.data(), 32) == 0x62A8AB43u);
  CHECK(crc32c(inc.data(), 32) == 0x46DD794Eu);
}

TEST_CASE("crc32c: chaining equals one pass at every split point") {
  std::string s = "The quick brown fox jumps over the lazy dog, twice over: 0123456789abcdef";
  const uint32_t whole = crc32c(s.data(), s.size());
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    CHECK(crc32c(s.data() + cut, s.size() - cut, crc32c(s.data(), cut)) == whole);
  }
}

TEST_CASE("crc32c: table and hardware paths agree") {
  std::mt19937_64 rng(7);
  std::vector<uint8_t> data(70000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  if (!detail::crc32c_hardware_available()) {
    MESSAGE("no SSE4.2 on this CPU: only the table path is tested");
  }
  for (size_t len : {0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4096, 65537}) {
    for (size_t misalign : {0, 1, 3, 5}) {
      const uint8_t* p = data.data() + misalign;
      const uint32_t table = detail::crc32c_table(p, len, 0);
      CHECK(crc32c(p, len) == table);
      if (detail::crc32c_hardware_available()) CHECK(detail::crc32c_hardware(p, len, 0x1234u) == detail::crc32c_table(p, len, 0x1234u));
    }
  }
}

TEST_CASE("crc32c_combine: joins checksums of consecutive pieces") {
  std::mt19937_64 rng(11);
  std::vector<uint8_t> data(100000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  const uint32_t whole = crc32c(data.data(), data.size());
  for (size_t cut : {0, 1, 8, 1000, 65536, 99999, 100000}) {
    uint32_t a = crc32c(data.data(), cut);
    uint32_t b = crc32c(data.data() + cut, data.size() - cut);
    CHECK(crc32c_combine(a, b, data.size() - cut) == whole);
  }
  // Three pieces, joined left to right.
  uint32_t c = crc32c_combine(crc32c(data.data(), 10), crc32c(data.data() + 10, 20000), 20000);
  c = crc32c_combine(c, crc32c(data.data() + 20010, data.size() - 20010), data.size() - 20010);
  CHECK(c == whole);
}
