// The fixed caps on untrusted input (docs/security.md), each at its boundary
// (accepted, or failing for another reason further on) and one past it
// (refused by the cap, with its message): tool-call nesting, JSON-Schema
// depth and size, safetensors header length, checkpoint file sizes, session
// batch and thread counts.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ernie.h"
#include "grammar/json_schema.h"
#include "hf/checkpoint.h"
#include "hf/safetensors.h"
#include "support/test_util.h"
#include "tools/tool_call_parser.h"
#include "util/bytes.h"
#include "util/error.h"
#include "util/json.h"

namespace {

using Json = nlohmann::ordered_json;

// The message of the ernie::Error `fn` throws ("" if none).
template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const ernie::Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// A tool call whose JSON nests `depth` levels (the call object is level 1).
std::string call_with_depth(size_t depth) {
  std::string text = "r</think><tool_call>{\"name\": \"f\", \"arguments\": {\"a\": ";
  text.append(depth - 2, '[');
  text.append(depth - 2, ']');
  text.append("}}</tool_call>");
  return text;
}

// A file of `size` bytes (sparse: no disk used) that starts with `head`.
void sparse_file(const std::string& path, const std::string& head, uint64_t size) {
  {
    std::ofstream f(path, std::ios::binary);
    f.write(head.data(), static_cast<std::streamsize>(head.size()));
  }
  std::filesystem::resize_file(path, size);
}

}  // namespace

TEST_CASE("caps: tool-call JSON nests at most kMaxToolCallDepth levels") {
  const size_t limit = ernie::kMaxToolCallDepth;
  auto at = ernie::parse_assistant_output(call_with_depth(limit));
  CHECK(at.tool_calls.size() == 1);
  CHECK(at.invalid_tool_calls == 0);
  auto past = ernie::parse_assistant_output(call_with_depth(limit + 1));
  CHECK(past.tool_calls.empty());
  CHECK(past.invalid_tool_calls == 1);
}

TEST_CASE("caps: JSON Schemas nest at most 32 levels and hold at most 4096 nodes") {
  auto nested = [](int levels) {
    Json s = {{"type", "string"}};
    for (int i = 0; i < levels; ++i) s = Json{{"type", "array"}, {"items", s}};
    return s;
  };
  CHECK(error_of([&] { ernie::JsonSchema s(nested(32)); }).empty());
  CHECK(contains(error_of([&] { ernie::JsonSchema s(nested(33)); }), "nested deeper than 32 levels"));

  auto wide = [](int properties) {
    Json props = Json::object();
    for (int i = 0; i < properties; ++i) props[std::to_string(i)] = Json{{"type", "string"}};
    return Json{{"type", "object"}, {"properties", props}};
  };
  CHECK(error_of([&] { ernie::JsonSchema s(wide(4095)); }).empty());  // root + 4095 = 4096 nodes
  CHECK(contains(error_of([&] { ernie::JsonSchema s(wide(4096)); }), "more than 4096 schema nodes"));
}

TEST_CASE("caps: a safetensors header may be 100 MiB, not one byte more") {
  test::TempDir dir;
  const uint64_t cap = ernie::SafetensorsFile::kMaxHeaderBytes;
  auto header_len = [](uint64_t n) {
    std::string b(8, '\0');
    ernie::store_le64(reinterpret_cast<uint8_t*>(b.data()), n);
    return b;
  };
  // At the cap the header is read (and is no JSON: zeros); past it, refused
  // from the length alone, before anything is allocated.
  sparse_file(dir.file("at.safetensors"), header_len(cap), 8 + cap);
  std::string at = error_of([&] { ernie::SafetensorsFile f(dir.file("at.safetensors")); });
  CHECK(!at.empty());
  CHECK(!contains(at, "absurd"));
  sparse_file(dir.file("past.safetensors"), header_len(cap + 1), 8 + cap + 1);
  CHECK(contains(error_of([&] { ernie::SafetensorsFile f(dir.file("past.safetensors")); }), "absurd"));
}

TEST_CASE("caps: config.json may be 16 MiB, not one byte more") {
  test::TempDir dir;
  for (const char* f : {"tokenizer.model", "tokenizer_config.json", "model.safetensors"}) {
    std::filesystem::create_symlink(test::data_path("tiny-moe-a") + "/" + f, dir.path() / f);
  }
  const uint64_t cap = 16u << 20;
  const std::string config = test::read_file(test::data_path("tiny-moe-a") + "/config.json");
  // At the cap: the golden config padded with spaces parses and the checkpoint opens.
  test::write_file(dir.file("config.json"), config + std::string(cap - config.size(), ' '));
  CHECK(error_of([&] { ernie::open_hf_checkpoint(dir.path().string()); }).empty());
  test::write_file(dir.file("config.json"), config + std::string(cap - config.size() + 1, ' '));
  CHECK(contains(error_of([&] { ernie::open_hf_checkpoint(dir.path().string()); }), "more than the 16777216 allowed"));
}

TEST_CASE("caps: session n_batch up to 65536 and n_threads up to 1024") {
  ernie_model* m = nullptr;
  REQUIRE(ernie_model_load(test::packed_golden("tiny-moe-a").c_str(), nullptr, &m) == ERNIE_OK);
  auto create = [&](int32_t n_batch, int32_t n_threads) {
    ernie_session_params sp;
    ernie_session_params_init(&sp);
    sp.n_ctx = 16;
    sp.n_batch = n_batch;
    sp.n_threads = n_threads;
    ernie_session* s = nullptr;
    ernie_status st = ernie_session_create(m, &sp, &s);
    ernie_session_free(s);
    return st;
  };
  CHECK(create(65536, 1) == ERNIE_OK);
  CHECK(create(65537, 1) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(create(16, 1024) == ERNIE_OK);
  CHECK(create(16, 1025) == ERNIE_E_INVALID_ARGUMENT);
  ernie_model_free(m);
}
