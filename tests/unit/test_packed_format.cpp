// The packed format: writer/reader round trip, the byte layout of
// docs/format.md, and the reader's refusal of damaged or hostile files.
#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "format/packed_file.h"
#include "format/packed_layout.h"
#include "format/packed_writer.h"
#include "support/dir_listing.h"
#include "support/test_util.h"
#include "util/bytes.h"
#include "util/checksum.h"
#include "util/error.h"

using namespace ernie;
using test::read_file;
using test::TempDir;
using test::write_file;

namespace {

using Json = nlohmann::ordered_json;

struct Sample {
  Json metadata = {{"format", 1}, {"note", "unit test"}};
  std::string tokenizer = std::string("tokenizer\0bytes", 15);
  std::vector<PackedTensorDesc> descs = {
      {"a.f32", DType::F32, {3, 5}},
      {"b.bf16", DType::BF16, {2, 4, 7}},
      {"c.f16", DType::F16, {33}},
  };
  // Tensor i's bytes: a deterministic pattern.
  std::string bytes(size_t i, uint64_t size) const {
    std::string s(size, '\0');
    for (uint64_t k = 0; k < size; ++k) s[k] = static_cast<char>((k * 31 + i * 7 + 1) & 0xff);
    return s;
  }
};

// Writes the sample, tensors in reverse order and in uneven chunks.
void write_sample(const std::string& path, const Sample& s = {}) {
  PackedWriter w(path, s.metadata, s.tokenizer, s.descs);
  for (size_t i = w.tensor_count(); i-- > 0;) {
    std::string b = s.bytes(i, w.tensor_size(i));
    TensorSink sink = w.begin_tensor(i);
    for (size_t at = 0; at < b.size(); at += 13) sink.write(b.data() + at, std::min<size_t>(13, b.size() - at));
    sink.end();
  }
  w.finish();
}

std::pair<ernie_status, std::string> open_error(const std::string& path) {
  try {
    PackedFile::open(path, true);
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
  return {ERNIE_OK, ""};
}

#define CHECK_OPEN_FAILS(path, status, substring)                                  \
  do {                                                                             \
    auto [s_, m_] = open_error(path);                                              \
    CHECK_MESSAGE(s_ == (status), m_);                                             \
    CHECK_MESSAGE(m_.find(substring) != std::string::npos, "message: " << m_);     \
  } while (0)

// Recomputes the section checksums and the header checksum after an edit,
// so a test reaches the validation behind them.
void reseal(std::string& f) {
  auto* b = reinterpret_cast<uint8_t*>(f.data());
  packed::Header h = packed::decode_header(b);
  // Sections an edit moved outside the file keep their old checksum.
  auto reseal_section = [&](const packed::Section& s, uint32_t& crc) {
    if (s.offset <= f.size() && s.size <= f.size() - s.offset) crc = crc32c(b + s.offset, s.size);
  };
  reseal_section(h.metadata, h.metadata_crc);
  reseal_section(h.tokenizer, h.tokenizer_crc);
  reseal_section(h.directory, h.directory_crc);
  auto enc = packed::encode_header(h);
  std::memcpy(b, enc.data(), enc.size());
}

// Rewrites header fields (then reseals).
void edit_header(std::string& f, const std::function<void(packed::Header&)>& edit) {
  auto* b = reinterpret_cast<uint8_t*>(f.data());
  packed::Header h = packed::decode_header(b);
  edit(h);
  auto enc = packed::encode_header(h);
  std::memcpy(b, enc.data(), enc.size());
  reseal(f);
}

// Rewrites directory entry i (then reseals).
void edit_entry(std::string& f, size_t i, const std::function<void(packed::Entry&)>& edit) {
  auto* b = reinterpret_cast<uint8_t*>(f.data());
  packed::Header h = packed::decode_header(b);
  uint8_t* at = b + h.directory.offset + i * packed::kEntrySize;
  packed::Entry e = packed::decode_entry(at);
  edit(e);
  packed::encode_entry(e, at);
  reseal(f);
}

}  // namespace

TEST_CASE("packed format: round trip") {
  TempDir dir;
  const std::string path = dir.file("m.ernie");
  Sample s;
  write_sample(path, s);
  CHECK(test::dir_listing(dir.path()) == std::vector<std::string>{"m.ernie"});  // no temp file left

  for (bool use_mmap : {true, false}) {
    auto pf = PackedFile::open(path, use_mmap);
    CHECK(pf->format_version() == 1);
    CHECK(pf->metadata() == s.metadata);
    CHECK(pf->metadata_text() == s.metadata.dump());
    CHECK(pf->tokenizer_bytes() == s.tokenizer);
    CHECK(pf->file_size() == read_file(path).size());
    REQUIRE(pf->tensors().size() == 3);
    for (size_t i = 0; i < 3; ++i) {
      const TensorInfo& t = pf->tensors()[i];
      CHECK(t.name == s.descs[i].name);
      CHECK(t.type == s.descs[i].type);
      CHECK(t.shape == s.descs[i].shape);
      CHECK(t.offset % 64 == 0);
      CHECK(pf->find(t.name) == &t);
      CHECK(std::string(static_cast<const char*>(pf->data(t)), t.size) == s.bytes(i, t.size));
      CHECK(t.crc32c == crc32c(pf->data(t), t.size));
      CHECK_NOTHROW(pf->verify_tensor(t));
    }
    CHECK(pf->tensors()[0].size == 3 * 5 * 4);
    CHECK(pf->tensors()[1].size == 2 * 4 * 7 * 2);
    CHECK(pf->tensors()[2].size == 33 * 2);
    CHECK(pf->find("nope") == nullptr);
  }
}

TEST_CASE("packed format: header bytes follow docs/format.md") {
  TempDir dir;
  write_sample(dir.file("m.ernie"));
  const std::string f = read_file(dir.file("m.ernie"));
  const auto* b = reinterpret_cast<const uint8_t*>(f.data());
  REQUIRE(f.size() > 4096);
  CHECK(std::memcmp(b, "ERNIEPK\0", 8) == 0);
  CHECK(load_le32(b + 8) == 1);            // format_version
  CHECK(load_le32(b + 12) == 0x01020304);  // endian_check
  CHECK(load_le32(b + 16) == 128);         // header_size
  CHECK(load_le32(b + 20) == 4096);        // data_alignment
  CHECK(load_le64(b + 24) == f.size());    // file_size
  CHECK(load_le64(b + 32) == 128);         // metadata offset
  const uint64_t meta_size = load_le64(b + 40);
  CHECK(f.substr(128, meta_size) == Sample().metadata.dump());
  const uint64_t dir_offset = load_le64(b + 64), dir_size = load_le64(b + 72);
  CHECK(dir_size == 3 * 160);
  const uint64_t data_offset = load_le64(b + 80), data_size = load_le64(b + 88);
  CHECK(data_offset % 4096 == 0);
  CHECK(data_offset + data_size == f.size());
  CHECK(load_le32(b + 96) == crc32c(b + 128, meta_size));
  CHECK(load_le32(b + 104) == crc32c(b + dir_offset, dir_size));
  CHECK(load_le32(b + 108) == 3);  // tensor_count
  CHECK(load_le32(b + 112) == 0);  // flags
  CHECK(load_le32(b + 124) == crc32c(b, 124));
  // Second directory entry: "b.bf16", dtype 2, ndim 3, shape 2x4x7.
  const uint8_t* e = b + dir_offset + 160;
  CHECK(std::string(reinterpret_cast<const char*>(e)) == "b.bf16");
  CHECK(load_le32(e + 96) == 2);
  CHECK(load_le32(e + 100) == 3);
  CHECK(load_le64(e + 104) == 2);
  CHECK(load_le64(e + 112) == 4);
  CHECK(load_le64(e + 120) == 7);
  CHECK(load_le64(e + 128) == 0);
  CHECK(load_le64(e + 136) % 64 == 0);
  CHECK(load_le64(e + 144) == 112);
  CHECK(load_le32(e + 152) == crc32c(b + data_offset + load_le64(e + 136), 112));
}

TEST_CASE("packed format: the writer is deterministic") {
  TempDir dir;
  write_sample(dir.file("a"));
  write_sample(dir.file("b"));
  CHECK(read_file(dir.file("a")) == read_file(dir.file("b")));
}

TEST_CASE("packed format: writer misuse fails and leaves nothing behind") {
  TempDir dir;
  Sample s;
  const std::string path = dir.file("m.ernie");
  {
    PackedWriter w(path, s.metadata, s.tokenizer, s.descs);
    auto sink = w.begin_tensor(0);
    std::string too_much(w.tensor_size(0) + 1, 'x');
    CHECK_THROWS_AS(sink.write(too_much.data(), too_much.size()), Error);
    CHECK_THROWS_AS(sink.end(), Error);  // nothing written yet
    CHECK_THROWS_AS(w.begin_tensor(0), Error);
    CHECK_THROWS_AS(w.begin_tensor(3), Error);
    try {
      w.finish();
      FAIL("finish() must refuse unwritten tensors");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("was not written") != std::string::npos);
    }
  }
  CHECK(test::dir_listing(dir.path()).empty());

  auto bad = [&](std::vector<PackedTensorDesc> descs, const char* substring) {
    try {
      PackedWriter w(path, s.metadata, s.tokenizer, std::move(descs));
      FAIL("accepted a bad tensor list");
    } catch (const Error& e) {
      CHECK(e.status() == ERNIE_E_INVALID_ARGUMENT);
      CHECK_MESSAGE(std::string(e.what()).find(substring) != std::string::npos, e.what());
    }
  };
  bad({{"x", DType::F32, {2}}, {"x", DType::F32, {3}}}, "listed twice");
  bad({{"", DType::F32, {2}}}, "must have 1 to 95 bytes");
  bad({{std::string(96, 'n'), DType::F32, {2}}}, "must have 1 to 95 bytes");
  bad({{"sp ace", DType::F32, {2}}}, "not printable ASCII");
  bad({{"x", DType::F32, {}}}, "dimensions");
  bad({{"x", DType::F32, {1, 1, 1, 1, 1}}}, "dimensions");
  bad({{"x", DType::F32, {2, 0}}}, "invalid shape");
  bad({{"x", DType::F32, {-2}}}, "invalid shape");
  bad({{"x", DType::Q4X8, {12, 256}}}, "invalid shape");  // q4x8 rows come in groups of 8
  bad({{"x", DType::Q4X8, {256}}}, "invalid shape");
  CHECK(test::dir_listing(dir.path()).empty());
}

TEST_CASE("packed format: an empty tensor list still makes a valid file") {
  TempDir dir;
  Sample s;
  PackedWriter w(dir.file("m"), s.metadata, s.tokenizer, {});
  w.finish();
  auto pf = PackedFile::open(dir.file("m"), true);
  CHECK(pf->tensors().empty());
  CHECK(pf->file_size() % 4096 == 0);
}

TEST_CASE("packed format: damaged files are refused with specific errors") {
  TempDir dir;
  const std::string good_path = dir.file("good");
  write_sample(good_path);
  const std::string good = read_file(good_path);
  const auto* gb = reinterpret_cast<const uint8_t*>(good.data());
  const packed::Header h = packed::decode_header(gb);
  const std::string path = dir.file("bad");
  auto with = [&](std::string bytes) {
    write_file(path, bytes);
    return path;
  };

  SUBCASE("truncated at several points") {
    for (size_t cut : {size_t{0}, size_t{7}, size_t{127}, size_t{128}, size_t{300}, size_t{4096}, good.size() - 1}) {
      CAPTURE(cut);
      CHECK_OPEN_FAILS(with(good.substr(0, cut)), ERNIE_E_INVALID_MODEL, "truncated");
    }
  }
  SUBCASE("bytes appended") { CHECK_OPEN_FAILS(with(good + "x"), ERNIE_E_INVALID_MODEL, "bytes appended"); }
  SUBCASE("wrong magic") {
    std::string f = good;
    f[0] = 'X';
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "not an ernie packed model");
    CHECK_OPEN_FAILS(with(std::string(200, 'a')), ERNIE_E_INVALID_MODEL, "not an ernie packed model");
  }
  SUBCASE("other byte order") {
    std::string f = good;
    edit_header(f, [](packed::Header& x) { x.endian_check = 0x04030201; });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "endian check");
  }
  SUBCASE("newer format version") {
    std::string f = good;
    edit_header(f, [](packed::Header& x) { x.format_version = 2; });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_UNSUPPORTED, "format version 2 is newer than this library supports (1)");
  }
  SUBCASE("flipped bytes in each checked part") {
    struct Flip {
      uint64_t at;
      ernie_status status;
      const char* substring;
    } flips[] = {
        {24, ERNIE_E_CHECKSUM, "header checksum mismatch"},  // file_size
        {120, ERNIE_E_CHECKSUM, "header checksum mismatch"}, // reserved
        {h.metadata.offset + 3, ERNIE_E_CHECKSUM, "metadata checksum mismatch"},
        {h.tokenizer.offset + h.tokenizer.size - 1, ERNIE_E_CHECKSUM, "tokenizer checksum mismatch"},
        {h.directory.offset + 100, ERNIE_E_CHECKSUM, "directory checksum mismatch"},
    };
    for (const Flip& fl : flips) {
      CAPTURE(fl.at);
      std::string f = good;
      f[fl.at] ^= 0x10;
      CHECK_OPEN_FAILS(with(f), fl.status, fl.substring);
    }
  }
  SUBCASE("flipped tensor byte is found by verify_tensor") {
    auto pf0 = PackedFile::open(good_path, true);
    const TensorInfo t0 = pf0->tensors()[1];
    std::string f = good;
    f[t0.offset + 5] ^= 0x01;
    auto pf = PackedFile::open(with(f), true);
    CHECK_NOTHROW(pf->verify_tensor(pf->tensors()[0]));
    try {
      pf->verify_tensor(pf->tensors()[1]);
      FAIL("corrupt tensor accepted");
    } catch (const Error& e) {
      CHECK(e.status() == ERNIE_E_CHECKSUM);
      CHECK(std::string(e.what()).find("tensor 'b.bf16': checksum mismatch") != std::string::npos);
    }
  }
  SUBCASE("sections outside the file or overlapping") {
    std::string f = good;
    edit_header(f, [](packed::Header& x) { x.tokenizer.size = uint64_t{1} << 63; });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "tokenizer section");
    f = good;
    edit_header(f, [](packed::Header& x) { x.metadata.offset = 64; });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "metadata section");
    f = good;
    edit_header(f, [](packed::Header& x) { x.tokenizer.offset = x.metadata.offset + 1; });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "overlap");
    f = good;
    edit_header(f, [](packed::Header& x) { x.tensor_count = 2; });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "expected 2 entries");
    f = good;
    edit_header(f, [](packed::Header& x) { x.data_alignment = 100; });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "data alignment");
    f = good;
    edit_header(f, [](packed::Header& x) { x.flags = 1; });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_UNSUPPORTED, "flags");
  }
  SUBCASE("metadata that is not a JSON object") {
    std::string f = good;
    f[h.metadata.offset] = '[';  // "{..." -> "[...": malformed
    reseal(f);
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "metadata: invalid JSON at byte");
  }
  SUBCASE("hostile directory entries") {
    struct Case {
      std::function<void(packed::Entry&)> edit;
      ernie_status status;
      const char* substring;
    } cases[] = {
        {[](packed::Entry& e) { std::memset(e.name, 'a', sizeof e.name); }, ERNIE_E_INVALID_MODEL,
         "not NUL-terminated"},
        {[](packed::Entry& e) { e.name[0] = '\0'; }, ERNIE_E_INVALID_MODEL, "empty name"},
        {[](packed::Entry& e) { e.name[1] = '\n'; }, ERNIE_E_INVALID_MODEL, "not printable ASCII"},
        {[](packed::Entry& e) { e.name[90] = 'x'; }, ERNIE_E_INVALID_MODEL, "padding"},
        {[](packed::Entry& e) { e.dtype = 77; }, ERNIE_E_UNSUPPORTED, "has dtype 77, unknown"},
        {[](packed::Entry& e) { e.ndim = 0; }, ERNIE_E_INVALID_MODEL, "0 dimensions"},
        {[](packed::Entry& e) { e.ndim = 5; }, ERNIE_E_INVALID_MODEL, "5 dimensions"},
        {[](packed::Entry& e) { e.shape[3] = 1; }, ERNIE_E_INVALID_MODEL, "unused shape entry 3"},
        {[](packed::Entry& e) { e.shape[0] = 0; }, ERNIE_E_INVALID_MODEL, "invalid shape"},
        {[](packed::Entry& e) { e.shape[0] = uint64_t{1} << 40; e.shape[1] = uint64_t{1} << 40; },
         ERNIE_E_INVALID_MODEL, "invalid shape"},
        {[](packed::Entry& e) { e.shape[0] = 4; }, ERNIE_E_INVALID_MODEL, "its shape and dtype need"},
        {[](packed::Entry& e) { e.offset += 8; }, ERNIE_E_INVALID_MODEL, "not a multiple of 64"},
        {[](packed::Entry& e) { e.offset = uint64_t{1} << 62; }, ERNIE_E_INVALID_MODEL,
         "lies outside the data section"},
        {[](packed::Entry& e) { e.reserved = 1; }, ERNIE_E_INVALID_MODEL, "reserved"},
    };
    for (const Case& c : cases) {
      std::string f = good;
      edit_entry(f, 0, c.edit);
      CHECK_OPEN_FAILS(with(f), c.status, c.substring);
    }
    std::string f = good;
    edit_entry(f, 1, [](packed::Entry& e) { std::strcpy(e.name, "a.f32"); });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "appears twice");
    f = good;  // make tensor 1 start inside tensor 0
    edit_entry(f, 1, [](packed::Entry& e) { e.offset = 0; });
    CHECK_OPEN_FAILS(with(f), ERNIE_E_INVALID_MODEL, "overlap");
  }
  SUBCASE("missing file is an I/O error") { CHECK_OPEN_FAILS(dir.file("absent"), ERNIE_E_IO, "absent"); }
}

TEST_CASE("packed format: progress returning false cancels opening") {
  TempDir dir;
  write_sample(dir.file("m"));
  int calls = 0;
  try {
    PackedFile::open(dir.file("m"), true, [&](float) { return ++calls < 2; });
    FAIL("not cancelled");
  } catch (const Error& e) {
    CHECK(e.status() == ERNIE_E_CANCELLED);
  }
  float last = -1;
  PackedFile::open(dir.file("m"), true, [&](float f) {
    CHECK(f >= last);
    last = f;
    return true;
  });
  CHECK(last == 1.0f);
}
