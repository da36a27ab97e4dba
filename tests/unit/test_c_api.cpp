// The C API contract: versions and layout table, statuses and the
// thread-local last error, params structs of any size, NULL handles, session
// limits, and ownership (a model outlives its sessions).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <thread>

#include "ernie.h"
#include "support/test_util.h"

namespace {

std::string last_error() { return ernie_last_error(); }

ernie_model* load(const std::string& name) {
  ernie_model* m = nullptr;
  REQUIRE_MESSAGE(ernie_model_load(test::packed_golden(name).c_str(), nullptr, &m) == ERNIE_OK, ernie_last_error());
  return m;
}

}  // namespace

TEST_CASE("c api: versions and the ABI layout table") {
  CHECK(ernie_abi_version() == ERNIE_ABI_VERSION);
  CHECK(ernie_version() == ERNIE_VERSION_MAJOR * 10000 + ERNIE_VERSION_MINOR * 100 + ERNIE_VERSION_PATCH);
  CHECK(std::string(ernie_version_string()) ==
        std::to_string(ERNIE_VERSION_MAJOR) + "." + std::to_string(ERNIE_VERSION_MINOR) + "." +
            std::to_string(ERNIE_VERSION_PATCH));
  const ernie_abi_entry* e = nullptr;
  size_t n = 0;
  REQUIRE(ernie_abi_info(&e, &n) == ERNIE_OK);
  REQUIRE(n > 10);
  auto find = [&](const char* s, const char* f) -> uint64_t {
    for (size_t i = 0; i < n; ++i) {
      bool field_match = f ? (e[i].field_name && !std::strcmp(e[i].field_name, f)) : !e[i].field_name;
      if (!std::strcmp(e[i].struct_name, s) && field_match) return e[i].value;
    }
    FAIL("no entry " << s << "." << (f ? f : "sizeof"));
    return 0;
  };
  CHECK(find("ernie_model_params", nullptr) == sizeof(ernie_model_params));
  CHECK(find("ernie_model_params", "log_level") == offsetof(ernie_model_params, log_level));
  CHECK(find("ernie_model_info", nullptr) == sizeof(ernie_model_info));
  CHECK(find("ernie_model_info", "file_bytes") == offsetof(ernie_model_info, file_bytes));
  CHECK(find("ernie_session_params", "n_threads") == offsetof(ernie_session_params, n_threads));
  CHECK(find("ernie_pack_params", nullptr) == sizeof(ernie_pack_params));
  CHECK(find("ernie_message", "tool_call_id") == offsetof(ernie_message, tool_call_id));
  CHECK(find("ernie_generate_result", "n_tokens") == offsetof(ernie_generate_result, n_tokens));
  CHECK(find("ernie_event", "n_top_logprobs") == offsetof(ernie_event, n_top_logprobs));
  CHECK(ernie_abi_info(nullptr, &n) == ERNIE_E_INVALID_ARGUMENT);
}

TEST_CASE("c api: status strings") {
  for (ernie_status s = ERNIE_OK; s <= ERNIE_E_INTERNAL; ++s) {
    CHECK(std::string(ernie_status_string(s)).rfind("ERNIE_", 0) == 0);
  }
  CHECK(std::string(ernie_status_string(9999)) == "unknown status");
}

TEST_CASE("c api: NULL handles and arguments are refused, never crash") {
  ernie_model* m = nullptr;
  CHECK(ernie_model_load(nullptr, nullptr, &m) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_model_load("x", nullptr, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_model_load("", nullptr, &m) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_model_verify(nullptr, nullptr, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_model_get_info(nullptr, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  const char* json = nullptr;
  CHECK(ernie_model_metadata(nullptr, &json) == ERNIE_E_INVALID_ARGUMENT);
  uint64_t bytes = 0;
  CHECK(ernie_model_session_bytes(nullptr, 16, 16, &bytes) == ERNIE_E_INVALID_ARGUMENT);
  ernie_session* s = nullptr;
  CHECK(ernie_session_create(nullptr, nullptr, &s) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(s == nullptr);
  int32_t tok = 1;
  CHECK(ernie_session_eval(nullptr, &tok, 1, 0) == ERNIE_E_INVALID_ARGUMENT);
  const float* logits = nullptr;
  CHECK(ernie_session_logits(nullptr, 0, &logits, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  int64_t n_past = 0;
  CHECK(ernie_session_n_past(nullptr, &n_past) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_session_truncate(nullptr, 0) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_pack(nullptr, "x", nullptr) == ERNIE_E_INVALID_ARGUMENT);
  ernie_model_free(nullptr);
  ernie_session_free(nullptr);
  ernie_model_params_init_sized(nullptr, sizeof(ernie_model_params));
  (ernie_session_params_init)(nullptr);
}

TEST_CASE("c api: the last error is per thread and cleared by the next call") {
  ernie_model* m = nullptr;
  CHECK(ernie_model_load("/nonexistent/model.ernie", nullptr, &m) == ERNIE_E_IO);
  CHECK(last_error().find("/nonexistent/model.ernie") != std::string::npos);
  std::string other;
  std::thread([&] { other = ernie_last_error(); }).join();
  CHECK(other.empty());
  CHECK(last_error().find("/nonexistent/model.ernie") != std::string::npos);
  const ernie_abi_entry* e = nullptr;
  size_t n = 0;
  ernie_model* ok = load("tiny-moe-a");
  CHECK(last_error().empty());
  (void)e;
  (void)n;
  ernie_model_free(ok);
}

TEST_CASE("c api: params structs from older headers and invalid struct sizes") {
  ernie_model_params p;
  ernie_model_params_init(&p);
  CHECK(p.struct_size == sizeof(p));
  CHECK(p.use_mmap == 1);
  // An "older" caller that only knows the first two fields: the rest default.
  p.struct_size = offsetof(ernie_model_params, use_mmap);
  p.n_threads = 1;
  p.use_mmap = 12345;  // beyond the caller's struct: must be ignored
  ernie_model* m = nullptr;
  REQUIRE(ernie_model_load(test::packed_golden("tiny-moe-a").c_str(), &p, &m) == ERNIE_OK);
  ernie_model_free(m);
  p.struct_size = 0;
  CHECK(ernie_model_load(test::packed_golden("tiny-moe-a").c_str(), &p, &m) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(last_error().find("struct_size") != std::string::npos);
  ernie_model_params_init(&p);
  p.n_threads = -3;
  CHECK(ernie_model_load(test::packed_golden("tiny-moe-a").c_str(), &p, &m) == ERNIE_E_INVALID_ARGUMENT);
  ernie_model_params_init(&p);
  p.backend = "quantum";
  CHECK(ernie_model_load(test::packed_golden("tiny-moe-a").c_str(), &p, &m) == ERNIE_E_BACKEND);
  CHECK(last_error().find("quantum") != std::string::npos);
}

TEST_CASE("c api: model info and metadata") {
  ernie_model* m = load("tiny-moe-b");
  ernie_model_info info{};
  info.struct_size = sizeof(info);
  REQUIRE(ernie_model_get_info(m, &info) == ERNIE_OK);
  CHECK(info.arch == ERNIE_ARCH_MOE);
  CHECK(info.n_layers == 4);
  CHECK(info.hidden_size == 96);
  CHECK(info.n_heads == 4);
  CHECK(info.n_kv_heads == 1);
  CHECK(info.head_dim == 32);
  CHECK(info.n_experts == 16);
  CHECK(info.n_experts_used == 4);
  CHECK(info.n_shared_experts == 2);
  CHECK(info.n_moe_layers == 3);
  CHECK(info.vocab_size == 800);
  CHECK(info.tied_embeddings == 0);
  CHECK(info.kv_bytes_per_token == 4u * 2 * 1 * 32 * 4);  // layers * (k,v) * kv_dim * f32
  CHECK(info.weight_bytes > 0);
  CHECK(info.n_tensors == 1 + 4 * 6 + 3 + 3 * 8 + 1 + 1);  // embedding, 6 per layer, dense MLP, 3 MoE layers, norm, head
  CHECK(info.file_bytes > info.weight_bytes);
  // A smaller (older) info struct is filled only up to its size.
  unsigned char small[offsetof(ernie_model_info, n_heads) + 64];
  std::memset(small, 0xAB, sizeof small);
  auto* partial = reinterpret_cast<ernie_model_info*>(small);
  partial->struct_size = offsetof(ernie_model_info, n_heads);
  REQUIRE(ernie_model_get_info(m, partial) == ERNIE_OK);
  CHECK(small[offsetof(ernie_model_info, n_heads)] == 0xAB);
  const char* meta = nullptr;
  REQUIRE(ernie_model_metadata(m, &meta) == ERNIE_OK);
  CHECK(std::string(meta).find("\"config\"") != std::string::npos);
  ernie_model_free(m);
}

TEST_CASE("c api: session limits and logits access") {
  ernie_model* m = load("tiny-dense");
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = 4;
  ernie_session* s = nullptr;
  REQUIRE(ernie_session_create(m, &sp, &s) == ERNIE_OK);
  const float* logits = nullptr;
  CHECK(ernie_session_logits(s, -1, &logits, nullptr) == ERNIE_E_INVALID_ARGUMENT);  // nothing evaluated
  int32_t ids[] = {1, 5, 17};
  REQUIRE(ernie_session_eval(s, ids, 3, 0) == ERNIE_OK);
  CHECK(ernie_session_logits(s, -1, &logits, nullptr) == ERNIE_OK);
  CHECK(ernie_session_logits(s, 2, &logits, nullptr) == ERNIE_OK);
  CHECK(ernie_session_logits(s, 0, &logits, nullptr) == ERNIE_E_INVALID_ARGUMENT);  // not kept
  CHECK(last_error().find("ERNIE_EVAL_ALL_LOGITS") != std::string::npos);
  CHECK(ernie_session_logits(s, 3, &logits, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  // Context full: refused, session unchanged.
  CHECK(ernie_session_eval(s, ids, 2, 0) == ERNIE_E_CONTEXT_FULL);
  int64_t n_past = -1;
  REQUIRE(ernie_session_n_past(s, &n_past) == ERNIE_OK);
  CHECK(n_past == 3);
  // Bad ids and flags.
  int32_t bad[] = {1, 600};
  CHECK(ernie_session_eval(s, bad, 1, 0x40) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_session_eval(s, bad + 1, 1, 0) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(last_error().find("outside the vocabulary") != std::string::npos);
  CHECK(ernie_session_eval(s, nullptr, 1, 0) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_session_eval(s, ids, 0, 0) == ERNIE_E_INVALID_ARGUMENT);
  // Truncate and re-evaluate gives the same logits as the first time.
  std::vector<float> first(logits, logits + 600);
  REQUIRE(ernie_session_truncate(s, 2) == ERNIE_OK);
  CHECK(ernie_session_truncate(s, 3) == ERNIE_E_INVALID_ARGUMENT);
  REQUIRE(ernie_session_eval(s, ids + 2, 1, 0) == ERNIE_OK);
  REQUIRE(ernie_session_logits(s, -1, &logits, nullptr) == ERNIE_OK);
  CHECK(std::equal(first.begin(), first.end(), logits));
  // n_ctx above the model's maximum.
  sp.n_ctx = 1 << 30;
  ernie_session* big = nullptr;
  CHECK(ernie_session_create(m, &sp, &big) == ERNIE_E_INVALID_ARGUMENT);
  // The model may be freed before its sessions: they keep it alive.
  ernie_model_free(m);
  REQUIRE(ernie_session_truncate(s, 0) == ERNIE_OK);
  CHECK(ernie_session_eval(s, ids, 3, 0) == ERNIE_OK);
  ernie_session_free(s);
}

TEST_CASE("c api: session_bytes grows with the context") {
  ernie_model* m = load("tiny-moe-a");
  uint64_t a = 0, b = 0;
  REQUIRE(ernie_model_session_bytes(m, 128, 32, &a) == ERNIE_OK);
  REQUIRE(ernie_model_session_bytes(m, 256, 32, &b) == ERNIE_OK);
  CHECK(b > a);
  CHECK(ernie_model_session_bytes(m, 0, 32, &a) == ERNIE_E_INVALID_ARGUMENT);
  ernie_model_free(m);
}
