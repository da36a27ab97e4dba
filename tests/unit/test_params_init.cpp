// The *_params_init entry points write exactly the caller's struct: the
// ABI 1.0 functions (called by binaries built against that header) at most
// the 1.0 size, the _sized ones the size they are given — never past it, so a
// binary built against an older header never has memory overwritten by a
// newer library.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "ernie.h"
#include "support/test_util.h"

namespace {

constexpr unsigned char kCanary = 0xAB;

// Calls `init` on a canary-filled buffer; returns the end of the last byte it
// changed.
template <typename Init>
size_t bytes_written(Init init) {
  std::vector<unsigned char> buf(512, kCanary);
  init(buf.data());
  size_t last = 0;
  for (size_t i = 0; i < buf.size(); ++i) {
    if (buf[i] != kCanary) last = i + 1;
  }
  return last;
}

template <typename T>
void check_pair(void (*legacy)(T*), void (*sized)(T*, size_t), size_t size_1_0) {
  CAPTURE(sizeof(T));
  CHECK(size_1_0 <= sizeof(T));
  // The 1.0 entry point: never past the 1.0 struct; struct_size says so.
  CHECK(bytes_written([&](unsigned char* b) { legacy(reinterpret_cast<T*>(b)); }) <= size_1_0);
  std::vector<unsigned char> buf(512, kCanary);
  legacy(reinterpret_cast<T*>(buf.data()));
  size_t recorded = 0;
  std::memcpy(&recorded, buf.data(), sizeof recorded);
  CHECK(recorded == size_1_0);
  // _sized: an older header's smaller struct, this header's, a newer one's.
  for (size_t size : {sizeof(size_t) + 4, size_1_0, sizeof(T), sizeof(T) + 24}) {
    CAPTURE(size);
    CHECK(bytes_written([&](unsigned char* b) { sized(reinterpret_cast<T*>(b), size); }) <= size);
    std::vector<unsigned char> b(512, kCanary);
    sized(reinterpret_cast<T*>(b.data()), size);
    std::memcpy(&recorded, b.data(), sizeof recorded);
    CHECK(recorded == size);
    for (size_t i = sizeof(T); i < size; ++i) CHECK(b[i] == 0);  // a newer header's fields: zero
  }
  sized(nullptr, sizeof(T));  // NULL: nothing to fill, no crash
  // Not a struct size: nothing is written.
  CHECK(bytes_written([&](unsigned char* b) { sized(reinterpret_cast<T*>(b), 3); }) == 0);
  CHECK(bytes_written([&](unsigned char* b) { sized(reinterpret_cast<T*>(b), size_t{1} << 40); }) == 0);
}

}  // namespace

TEST_CASE("params init: every struct's init writes only the caller's struct") {
  check_pair<ernie_model_params>((ernie_model_params_init), ernie_model_params_init_sized, 64);
  check_pair<ernie_session_params>((ernie_session_params_init), ernie_session_params_init_sized, 24);
  check_pair<ernie_sampling_params>((ernie_sampling_params_init), ernie_sampling_params_init_sized, 72);
  check_pair<ernie_generate_params>((ernie_generate_params_init), ernie_generate_params_init_sized, 120);
  check_pair<ernie_chat_params>((ernie_chat_params_init), ernie_chat_params_init_sized, 80);
  check_pair<ernie_pack_params>((ernie_pack_params_init), ernie_pack_params_init_sized, 48);
}

TEST_CASE("params init: a 1.0 struct loads with the new limits at their defaults") {
  // A binary built against the 1.0 header: 64-byte struct, followed in memory
  // by unrelated bytes the library must neither write nor read.
  std::vector<unsigned char> buf(sizeof(ernie_model_params) + 64, 0xFF);
  auto* p = reinterpret_cast<ernie_model_params*>(buf.data());
  (ernie_model_params_init)(p);
  p->n_threads = 1;
  ernie_model* m = nullptr;
  CHECK(ernie_model_load(test::packed_golden("tiny-moe-a").c_str(), p, &m) == ERNIE_OK);
  for (size_t i = 64; i < buf.size(); ++i) CHECK(buf[i] == 0xFF);
  ernie_session* s = nullptr;
  CHECK(ernie_session_create(m, nullptr, &s) == ERNIE_OK);  // no stray budget or context limit
  ernie_session_free(s);
  ernie_model_free(m);
}

TEST_CASE("params init: the macro fills this header's whole struct") {
  ernie_model_params p;
  std::memset(&p, 0xFF, sizeof p);
  ernie_model_params_init(&p);
  CHECK(p.struct_size == sizeof p);
  CHECK(p.max_context == 0);
  CHECK(p.max_file_bytes == 0);
  CHECK(p.session_memory_budget == 0);
  CHECK(p.use_mmap == 1);
}
