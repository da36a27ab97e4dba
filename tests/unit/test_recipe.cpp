// Quantization recipes: the per-role table, the fallbacks for rows that are
// not whole blocks, and `ernie pack --quant` end to end on a tiny model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "ernie.h"
#include "quant/recipe.h"
#include "support/test_util.h"

using ernie::DType;
using ernie::TensorRole;
using namespace ernie::quant;

TEST_SUITE("recipe") {
TEST_CASE("recipes: names round-trip and unknown names are refused") {
  for (Recipe r : {Recipe::Q8, Recipe::Q6, Recipe::Q4, Recipe::Q2}) CHECK(recipe_from_name(recipe_name(r)) == r);
  CHECK_FALSE(recipe_from_name("q5").has_value());
  CHECK_FALSE(recipe_from_name("").has_value());
}

TEST_CASE("recipes: routers and norms stay f32, roles get the documented types") {
  for (Recipe r : {Recipe::Q8, Recipe::Q6, Recipe::Q4, Recipe::Q2}) {
    CHECK(recipe_dtype(r, TensorRole::Router, 1536, 2560) == DType::F32);
    CHECK(recipe_dtype(r, TensorRole::Norm, 1536, 2560) == DType::F32);
  }
  // docs/quantization.md, "Recipes".
  CHECK(recipe_dtype(Recipe::Q8, TensorRole::Embedding, 1536, 2560) == DType::F16);
  CHECK(recipe_dtype(Recipe::Q8, TensorRole::DenseMlp, 1536, 2560) == DType::F16);
  CHECK(recipe_dtype(Recipe::Q8, TensorRole::RoutedExpert, 1536, 2560) == DType::Q8);
  CHECK(recipe_dtype(Recipe::Q6, TensorRole::Embedding, 1536, 2560) == DType::Q8);
  CHECK(recipe_dtype(Recipe::Q6, TensorRole::Attention, 1536, 2560) == DType::Q6);
  CHECK(recipe_dtype(Recipe::Q4, TensorRole::Attention, 1536, 2560) == DType::Q6);
  CHECK(recipe_dtype(Recipe::Q4, TensorRole::RoutedExpert, 1536, 1536) == DType::Q4X8);
  CHECK(recipe_dtype(Recipe::Q4, TensorRole::SharedExpert, 1536, 2560) == DType::Q4X8);
  CHECK(recipe_dtype(Recipe::Q2, TensorRole::RoutedExpert, 1536, 2560) == DType::Q2);
  CHECK(recipe_dtype(Recipe::Q2, TensorRole::Attention, 1536, 2560) == DType::Q4X8);
  CHECK(recipe_dtype(Recipe::Q2, TensorRole::Embedding, 1536, 2560) == DType::Q4);  // read one row at a time
  CHECK(recipe_dtype(Recipe::Q2, TensorRole::OutputHead, 1536, 2560) == DType::Q6);
}

TEST_CASE("recipes: q4 matrices are q4x8 when their rows come in groups of 8") {
  CHECK(recipe_dtype(Recipe::Q4, TensorRole::DenseMlp, 2560, 12288) == DType::Q4X8);
  CHECK(recipe_dtype(Recipe::Q4, TensorRole::RoutedExpert, 12, 256) == DType::Q4);
  CHECK(recipe_dtype(Recipe::Q4, TensorRole::RoutedExpert, 1, 256) == DType::Q4);
}

TEST_CASE("recipes: rows that are not whole blocks take the next wider type that fits") {
  CHECK(recipe_dtype(Recipe::Q2, TensorRole::RoutedExpert, 1536, 256) == DType::Q2);
  CHECK(recipe_dtype(Recipe::Q2, TensorRole::RoutedExpert, 1536, 96) == DType::Q8);   // 96 = 3 * 32
  CHECK(recipe_dtype(Recipe::Q4, TensorRole::RoutedExpert, 1536, 288) == DType::Q8);  // 288 = 9 * 32
  CHECK(recipe_dtype(Recipe::Q4, TensorRole::RoutedExpert, 1536, 100) == DType::BF16);
  CHECK(recipe_dtype(Recipe::Q8, TensorRole::Attention, 1536, 48) == DType::BF16);
}

TEST_CASE("cli: pack --quant writes the recipe's types, and the model runs") {
  test::TempDir dir;
  const std::string model = dir.file("q.ernie");
  auto p = test::run_cli("pack " + test::data_path("tiny-moe-b") + " -o " + model + " --quant q8 --quiet");
  REQUIRE_MESSAGE(p.code == 0, p.err);
  auto info = test::run_cli("info -m " + model + " --json");
  REQUIRE(info.code == 0);
  const auto j = nlohmann::json::parse(info.out);
  CHECK(j["metadata"]["provenance"]["requested_type"] == "recipe q8");
  CHECK(j["metadata"]["tensor_types"].contains("q8"));
  auto r = test::run_cli("run -m " + model + " -p hello -n 8 --seed 3 --json");
  CHECK_MESSAGE(r.code == 0, r.err);

  auto bad = test::run_cli("pack " + test::data_path("tiny-moe-b") + " -o " + model + " --quant q5");
  CHECK(bad.code == 2);
  auto both = test::run_cli("pack " + test::data_path("tiny-moe-b") + " -o " + model + " --quant q4 --type f16");
  CHECK(both.code == 2);
}
}


namespace {

// Logits of every position of `ids`, evaluated in pieces of `step` tokens.
std::vector<float> logits_in_steps(ernie_model* m, const std::vector<int32_t>& ids, size_t step, int threads,
                                   int32_t kv_type) {
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_threads = threads;
  sp.kv_type = kv_type;
  ernie_session* s = nullptr;
  REQUIRE(ernie_session_create(m, &sp, &s) == ERNIE_OK);
  std::vector<float> out;
  for (size_t i = 0; i < ids.size(); i += step) {
    const size_t n = std::min(step, ids.size() - i);
    REQUIRE(ernie_session_eval(s, &ids[i], n, ERNIE_EVAL_ALL_LOGITS) == ERNIE_OK);
    for (size_t t = 0; t < n; ++t) {
      const float* row = nullptr;
      size_t vocab = 0;
      REQUIRE(ernie_session_logits(s, static_cast<int64_t>(t), &row, &vocab) == ERNIE_OK);
      out.insert(out.end(), row, row + vocab);
    }
  }
  ernie_session_free(s);
  return out;
}

}  // namespace

TEST_SUITE("recipe") {
TEST_CASE("quantized model: batching, thread count and KV type choice are deterministic") {
  test::TempDir dir;
  const std::string file = dir.file("q.ernie");
  ernie_pack_params pp;
  ernie_pack_params_init(&pp);
  pp.type = ERNIE_TYPE_Q8;
  REQUIRE(ernie_pack(test::data_path("tiny-moe-b").c_str(), file.c_str(), &pp) == ERNIE_OK);
  ernie_model* m = nullptr;
  REQUIRE(ernie_model_load(file.c_str(), nullptr, &m) == ERNIE_OK);
  std::vector<int32_t> ids;
  for (int i = 0; i < 23; ++i) ids.push_back(3 + (i * 37) % 700);

  const auto whole = logits_in_steps(m, ids, ids.size(), 2, ERNIE_KV_AUTO);
  const auto one_by_one = logits_in_steps(m, ids, 1, 2, ERNIE_KV_AUTO);
  const auto fives_one_thread = logits_in_steps(m, ids, 5, 1, ERNIE_KV_AUTO);
  REQUIRE(whole.size() == one_by_one.size());
  CHECK(std::memcmp(whole.data(), one_by_one.data(), whole.size() * 4) == 0);
  CHECK(std::memcmp(whole.data(), fives_one_thread.data(), whole.size() * 4) == 0);
  // AUTO is f16 for a quantized model; asking for it gives the same bits.
  const auto f16 = logits_in_steps(m, ids, ids.size(), 2, ERNIE_KV_F16);
  CHECK(std::memcmp(whole.data(), f16.data(), whole.size() * 4) == 0);
  // An f32 cache differs by the f16 rounding of keys and values (amplified
  // where it flips an activation code): close, same top choices.
  const auto f32 = logits_in_steps(m, ids, ids.size(), 2, ERNIE_KV_F32);
  const size_t vocab = whole.size() / ids.size();
  float max_diff = 0, max_abs = 0;
  size_t same_top = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    const float* a = &whole[t * vocab];
    const float* b = &f32[t * vocab];
    for (size_t v = 0; v < vocab; ++v) {
      max_diff = std::max(max_diff, std::fabs(a[v] - b[v]));
      max_abs = std::max(max_abs, std::fabs(b[v]));
    }
    same_top += std::max_element(a, a + vocab) - a == std::max_element(b, b + vocab) - b;
  }
  CHECK(max_diff > 0);
  CHECK(max_diff < 0.05f * max_abs);
  CHECK(same_top >= ids.size() - 2);

  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.kv_type = 7;
  ernie_session* s = nullptr;
  CHECK(ernie_session_create(m, &sp, &s) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(s == nullptr);
  ernie_model_free(m);
}
}

TEST_SUITE("recipe") {
TEST_CASE("scalar and SIMD paths (kernels, attention) agree end to end") {
  // The same model evaluated by the CLI with ERNIE_CPU_ISA=scalar and with the
  // best ISA: every kernel and the attention loop have a scalar reference.
  test::TempDir dir;
  const std::string model = dir.file("q.ernie");
  REQUIRE(test::run_cli("pack " + test::data_path("tiny-moe-b") + " -o " + model + " --quant q8 --quiet").code == 0);
  const std::string ids = "1,5,17,200,33,90,4,77,12,400,8,3,600,21,9,44,310,2,18,75";
  auto logits = [&](const char* isa, const std::string& out) {
    if (isa) setenv("ERNIE_CPU_ISA", isa, 1);
    auto r = test::run_cli("logits -m " + model + " --ids " + ids + " -o " + out);
    unsetenv("ERNIE_CPU_ISA");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return test::read_f32(out);
  };
  const auto scalar = logits("scalar", dir.file("s.f32"));
  const auto best = logits(nullptr, dir.file("b.f32"));
  REQUIRE(scalar.size() == best.size());
  float max_diff = 0, max_abs = 0;
  for (size_t i = 0; i < best.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(scalar[i] - best[i]));
    max_abs = std::max(max_abs, std::fabs(scalar[i]));
  }
  // Float summation order differs; a code flip in an activation may follow.
  CHECK(max_diff < 0.05f * max_abs);
}
}
