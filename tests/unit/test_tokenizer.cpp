// Tokenizer: the golden SentencePiece cases, both special-token modes, and
// the C API's buffer protocol and bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ernie.h"
#include "support/test_util.h"

namespace {

ernie_model* load(const std::string& name) {
  ernie_model* m = nullptr;
  REQUIRE_MESSAGE(ernie_model_load(test::packed_golden(name).c_str(), nullptr, &m) == ERNIE_OK, ernie_last_error());
  return m;
}

std::vector<int32_t> tokenize(ernie_model* m, const std::string& text, uint32_t flags) {
  size_t n = 0;
  ernie_status st = ernie_tokenize(m, text.data(), text.size(), flags, nullptr, 0, &n);
  REQUIRE((st == ERNIE_OK || st == ERNIE_E_BUFFER_TOO_SMALL));
  std::vector<int32_t> ids(n);
  REQUIRE(ernie_tokenize(m, text.data(), text.size(), flags, ids.data(), ids.size(), &n) == ERNIE_OK);
  return ids;
}

std::string detokenize(ernie_model* m, const std::vector<int32_t>& ids) {
  size_t len = 0;
  ernie_status st = ernie_detokenize(m, ids.data(), ids.size(), nullptr, 0, &len);
  REQUIRE(st == ERNIE_E_BUFFER_TOO_SMALL);
  std::string out(len + 1, '\0');
  REQUIRE(ernie_detokenize(m, ids.data(), ids.size(), out.data(), out.size(), &len) == ERNIE_OK);
  out.resize(len);
  return out;
}

}  // namespace

TEST_CASE("tokenizer: golden cases (special parsing on) round-trip") {
  for (const char* name : {"tiny-moe-a", "tiny-moe-b", "tiny-dense"}) {
    CAPTURE(name);
    ernie_model* m = load(name);
    auto j = nlohmann::json::parse(test::read_file(test::data_path(std::string(name) + "/golden/tokenize.json")));
    for (auto& c : j["cases"]) {
      std::string text = c["text"];
      CAPTURE(text);
      CHECK(tokenize(m, text, ERNIE_TOKENIZE_PARSE_SPECIAL) == c["ids"].get<std::vector<int32_t>>());
      CHECK(detokenize(m, c["ids"].get<std::vector<int32_t>>()) == c["decoded"].get<std::string>());
    }
    ernie_model_free(m);
  }
}

TEST_CASE("tokenizer: with special parsing off, control markup in text stays text") {
  ernie_model* m = load("tiny-moe-b");
  const std::string text = "hi<|im_end|>\n<|im_start|>system\n<think></tool_call>";
  auto special = tokenize(m, text, ERNIE_TOKENIZE_PARSE_SPECIAL);
  auto literal = tokenize(m, text, 0);
  for (const char* piece : {"<|im_end|>", "<|im_start|>", "<think>", "</tool_call>"}) {
    CAPTURE(piece);
    auto id = tokenize(m, piece, ERNIE_TOKENIZE_PARSE_SPECIAL);
    REQUIRE(id.size() == 2);  // the dummy-prefix "▁" and the special piece
    CHECK(std::find(special.begin(), special.end(), id[1]) != special.end());
    CHECK(std::find(literal.begin(), literal.end(), id[1]) == literal.end());
  }
  CHECK(literal.size() > special.size());
  CHECK(detokenize(m, literal) == text);  // still the same text
  ernie_model_free(m);
}

TEST_CASE("tokenizer: bad input") {
  ernie_model* m = load("tiny-moe-a");
  size_t n = 0;
  int32_t ids[4];
  const char bad[] = "ok \xff\xfe bytes";
  CHECK(ernie_tokenize(m, bad, sizeof(bad) - 1, 0, ids, 4, &n) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(std::string(ernie_last_error()).find("not valid UTF-8 (byte 3)") != std::string::npos);
  const char overlong[] = "\xc0\xaf";
  CHECK(ernie_tokenize(m, overlong, 2, 0, ids, 4, &n) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_tokenize(m, nullptr, 5, 0, ids, 4, &n) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_tokenize(nullptr, "a", 1, 0, ids, 4, &n) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_tokenize(m, "a", 1, 0x80, ids, 4, &n) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_tokenize(m, "", 0, 0, nullptr, 0, &n) == ERNIE_OK);
  CHECK(n == 0);
  // Buffer protocol: too small reports the size needed.
  CHECK(ernie_tokenize(m, "Hello world", 11, 0, ids, 1, &n) == ERNIE_E_BUFFER_TOO_SMALL);
  CHECK(n > 1);
  // Detokenize: ids outside the tokenizer's pieces are refused.
  int32_t out_of_range[] = {5, 100000};
  char buf[64];
  size_t len = 0;
  CHECK(ernie_detokenize(m, out_of_range, 2, buf, sizeof buf, &len) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(std::string(ernie_last_error()).find("id 100000") != std::string::npos);
  int32_t negative[] = {-1};
  CHECK(ernie_detokenize(m, negative, 1, buf, sizeof buf, &len) == ERNIE_E_INVALID_ARGUMENT);
  ernie_model_free(m);
}
