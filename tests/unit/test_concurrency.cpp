// Many sessions over one model at once (weights shared, KV per session):
// every result equals its single-threaded run. CI runs this file under
// ThreadSanitizer as well (.ci/run).
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ernie.h"
#include "support/test_util.h"

namespace {

std::vector<int32_t> generate(ernie_model* model, uint64_t seed, bool cancel_midway) {
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = 128;
  sp.n_threads = 2;
  ernie_session* s = nullptr;
  REQUIRE(ernie_session_create(model, &sp, &s) == ERNIE_OK);
  ernie_sampling_params samp;
  ernie_sampling_params_init(&samp);
  samp.temperature = 1.0f;
  samp.seed = seed;
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.sampling = &samp;
  gp.max_tokens = 16;
  std::vector<int32_t> prompt = {1, 5, 17, static_cast<int32_t>(seed % 200)};
  ernie_generate_result r{};
  r.struct_size = sizeof(r);
  if (cancel_midway) ernie_session_cancel(s);  // no generation running: no effect
  REQUIRE(ernie_session_generate(s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_OK);
  std::vector<int32_t> out(r.tokens, r.tokens + r.n_tokens);
  ernie_session_free(s);
  return out;
}

}  // namespace

TEST_CASE("concurrency: sessions generating at once match their single-threaded results") {
  ernie_model* model = nullptr;
  REQUIRE(ernie_model_load(test::packed_golden("tiny-moe-b").c_str(), nullptr, &model) == ERNIE_OK);
  const int n = 4;
  std::vector<std::vector<int32_t>> alone(n), together(n);
  for (int i = 0; i < n; ++i) alone[static_cast<size_t>(i)] = generate(model, 100 + static_cast<uint64_t>(i), false);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      together[static_cast<size_t>(i)] = generate(model, 100 + static_cast<uint64_t>(i), i % 2 == 1);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) CHECK(together[static_cast<size_t>(i)] == alone[static_cast<size_t>(i)]);
  ernie_model_free(model);
}

TEST_CASE("concurrency: tokenize and render from many threads on one model") {
  ernie_model* model = nullptr;
  REQUIRE(ernie_model_load(test::packed_golden("tiny-moe-b").c_str(), nullptr, &model) == ERNIE_OK);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 20; ++k) {
        int32_t ids[64];
        size_t n = 0;
        if (ernie_tokenize(model, "Hello world", 11, 0, ids, 64, &n) != ERNIE_OK) failures++;
        char* text = nullptr;
        size_t len = 0;
        if (ernie_chat_render_json(model, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", nullptr,
                                   &text, &len) != ERNIE_OK) {
          failures++;
        }
        ernie_free(text);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures.load() == 0);
  ernie_model_free(model);
}
