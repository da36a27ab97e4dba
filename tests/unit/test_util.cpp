// utf8 and the thread pool.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <vector>

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
