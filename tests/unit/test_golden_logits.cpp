// The forward pass against the float64 reference logits of the golden
// checkpoints (ERNIE45.md §9), through ernie_pack, the packed file and the C API.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ernie.h"
#include "support/test_util.h"

namespace {

struct ModelHandle {
  ernie_model* m = nullptr;
  explicit ModelHandle(const std::string& name, int threads = 2) {
    ernie_model_params p;
    ernie_model_params_init(&p);
    p.n_threads = threads;
    REQUIRE_MESSAGE(ernie_model_load(test::packed_golden(name).c_str(), &p, &m) == ERNIE_OK, ernie_last_error());
  }
  ~ModelHandle() { ernie_model_free(m); }
};

struct SessionHandle {
  ernie_session* s = nullptr;
  SessionHandle(ernie_model* m, int n_batch, int n_ctx = 64) {
    ernie_session_params p;
    ernie_session_params_init(&p);
    p.n_batch = n_batch;
    p.n_ctx = n_ctx;
    REQUIRE_MESSAGE(ernie_session_create(m, &p, &s) == ERNIE_OK, ernie_last_error());
  }
  ~SessionHandle() { ernie_session_free(s); }
};

size_t vocab_of(ernie_model* m) {
  ernie_model_info info{};
  info.struct_size = sizeof(info);
  REQUIRE(ernie_model_get_info(m, &info) == ERNIE_OK);
  return static_cast<size_t>(info.vocab_size);
}

// ERNIE45.md §9: max|Δ| <= 1e-3 * max|ref| at every position, same argmax.
void check_row(const float* got, const float* ref, size_t vocab, size_t pos) {
  float max_ref = 0, max_diff = 0;
  for (size_t v = 0; v < vocab; ++v) {
    max_ref = std::max(max_ref, std::fabs(ref[v]));
    max_diff = std::max(max_diff, std::fabs(got[v] - ref[v]));
  }
  INFO("position " << pos << ": max|diff| " << max_diff << ", max|ref| " << max_ref);
  CHECK(max_diff <= 1e-3f * max_ref);
  CHECK(std::max_element(got, got + vocab) - got == std::max_element(ref, ref + vocab) - ref);
}

int32_t argmax(const float* row, size_t vocab) {
  return static_cast<int32_t>(std::max_element(row, row + vocab) - row);
}

}  // namespace

TEST_CASE("golden logits: every position of every case, prompt at once") {
  for (const char* name : {"tiny-moe-a", "tiny-moe-b", "tiny-dense"}) {
    CAPTURE(name);
    ModelHandle model(name);
    const size_t vocab = vocab_of(model.m);
    for (const auto& c : test::golden_cases(name)) {
      REQUIRE(c.logits.size() == c.ids.size() * vocab);
      SessionHandle s(model.m, 512);
      REQUIRE(ernie_session_eval(s.s, c.ids.data(), c.ids.size(), ERNIE_EVAL_ALL_LOGITS) == ERNIE_OK);
      for (size_t t = 0; t < c.ids.size(); ++t) {
        const float* row = nullptr;
        size_t n = 0;
        REQUIRE(ernie_session_logits(s.s, static_cast<int64_t>(t), &row, &n) == ERNIE_OK);
        REQUIRE(n == vocab);
        check_row(row, &c.logits[t * vocab], vocab, t);
      }
    }
  }
}

TEST_CASE("golden logits: token by token and in small batches equal the prompt at once, bit for bit") {
  for (const char* name : {"tiny-moe-a", "tiny-moe-b", "tiny-dense"}) {
    CAPTURE(name);
    ModelHandle model(name);
    const size_t vocab = vocab_of(model.m);
    for (const auto& c : test::golden_cases(name)) {
      SessionHandle whole(model.m, 512);
      REQUIRE(ernie_session_eval(whole.s, c.ids.data(), c.ids.size(), ERNIE_EVAL_ALL_LOGITS) == ERNIE_OK);
      SessionHandle one(model.m, 512);
      SessionHandle batched(model.m, 2);  // evals split into batches of 2 inside the session
      REQUIRE(ernie_session_eval(batched.s, c.ids.data(), c.ids.size(), ERNIE_EVAL_ALL_LOGITS) == ERNIE_OK);
      for (size_t t = 0; t < c.ids.size(); ++t) {
        REQUIRE(ernie_session_eval(one.s, &c.ids[t], 1, 0) == ERNIE_OK);
        const float *a = nullptr, *b = nullptr, *d = nullptr;
        REQUIRE(ernie_session_logits(whole.s, static_cast<int64_t>(t), &a, nullptr) == ERNIE_OK);
        REQUIRE(ernie_session_logits(one.s, -1, &b, nullptr) == ERNIE_OK);
        REQUIRE(ernie_session_logits(batched.s, static_cast<int64_t>(t), &d, nullptr) == ERNIE_OK);
        CHECK(std::equal(a, a + vocab, b));
        CHECK(std::equal(a, a + vocab, d));
      }
    }
  }
}

TEST_CASE("golden greedy continuations (12 tokens) and thread-count independence") {
  for (const char* name : {"tiny-moe-a", "tiny-moe-b", "tiny-dense"}) {
    CAPTURE(name);
    for (int threads : {1, 3}) {
      CAPTURE(threads);
      ModelHandle model(name, threads);
      const size_t vocab = vocab_of(model.m);
      for (const auto& c : test::golden_cases(name)) {
        SessionHandle s(model.m, 512);
        REQUIRE(ernie_session_eval(s.s, c.ids.data(), c.ids.size(), 0) == ERNIE_OK);
        std::vector<int32_t> got;
        for (int i = 0; i < 12; ++i) {
          const float* row = nullptr;
          REQUIRE(ernie_session_logits(s.s, -1, &row, nullptr) == ERNIE_OK);
          int32_t next = argmax(row, vocab);
          got.push_back(next);
          REQUIRE(ernie_session_eval(s.s, &next, 1, 0) == ERNIE_OK);
        }
        CHECK(got == c.greedy);
      }
    }
  }
}
