// The engine against an independent float64 forward pass on ERNIE 4.5
// configurations the golden data does not cover: other depths, MoE interval
// and range, head counts and sizes, top-k extremes, shared experts, tied or
// untied heads, and every checkpoint layout variant (shards, fused names,
// prefix, MTP tensors). Checkpoints come from hf_writer; the reference reads
// the same generated values directly.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ernie.h"
#include "support/hf_writer.h"
#include "support/reference_forward.h"
#include "support/test_util.h"

using ernie::Json;
using ernie::ModelConfig;

namespace {

constexpr float kScale = 0.15f;  // wide enough logit spread for a stable argmax

Json base_config(bool moe) {
  Json j = {{"hidden_size", 48},        {"intermediate_size", 80},  {"num_hidden_layers", 3},
            {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"head_dim", 16},
            {"vocab_size", 640},        {"max_position_embeddings", 4096},
            {"rope_theta", 10000.0},    {"rms_norm_eps", 1e-5},     {"tie_word_embeddings", true}};
  j["architectures"] = Json::array({moe ? "Ernie4_5_MoeForCausalLM" : "Ernie4_5ForCausalLM"});
  if (moe) {
    j["moe_intermediate_size"] = 24;
    j["moe_num_experts"] = 8;
    j["moe_k"] = 2;
    j["moe_num_shared_experts"] = 1;
    j["moe_layer_start_index"] = 1;
    j["moe_layer_end_index"] = -1;
    j["moe_layer_interval"] = 1;
  }
  return j;
}

// Worst max|Δ| / max|ref| over positions, and whether every argmax agrees.
struct Comparison {
  double worst = 0;
  bool argmax_equal = true;
};

Comparison run_and_compare(const ModelConfig& cfg, const test::HfWriteOptions& w, const std::vector<int32_t>& ids,
                           const test::ReferenceOptions& ref_opt) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("hf"));
  test::write_hf_checkpoint(dir.file("hf"), cfg, w);
  const std::string packed = dir.file("m.ernie");
  ernie_pack_params pp;
  ernie_pack_params_init(&pp);
  REQUIRE_MESSAGE(ernie_pack(dir.file("hf").c_str(), packed.c_str(), &pp) == ERNIE_OK, ernie_last_error());
  ernie_model* model = nullptr;
  ernie_model_params mp;
  ernie_model_params_init(&mp);
  mp.n_threads = 2;
  REQUIRE_MESSAGE(ernie_model_load(packed.c_str(), &mp, &model) == ERNIE_OK, ernie_last_error());
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = static_cast<int32_t>(ids.size());
  ernie_session* s = nullptr;
  REQUIRE(ernie_session_create(model, &sp, &s) == ERNIE_OK);
  REQUIRE(ernie_session_eval(s, ids.data(), ids.size(), ERNIE_EVAL_ALL_LOGITS) == ERNIE_OK);
  auto ref = test::reference_logits(cfg, ids, ref_opt);
  Comparison c;
  for (size_t t = 0; t < ids.size(); ++t) {
    const float* got = nullptr;
    size_t vocab = 0;
    REQUIRE(ernie_session_logits(s, static_cast<int64_t>(t), &got, &vocab) == ERNIE_OK);
    REQUIRE(vocab == ref[t].size());
    double max_ref = 0, max_diff = 0;
    for (size_t v = 0; v < vocab; ++v) {
      max_ref = std::max(max_ref, std::fabs(ref[t][v]));
      max_diff = std::max(max_diff, std::fabs(got[v] - ref[t][v]));
    }
    c.worst = std::max(c.worst, max_diff / max_ref);
    c.argmax_equal &= (std::max_element(got, got + vocab) - got) ==
                      (std::max_element(ref[t].begin(), ref[t].end()) - ref[t].begin());
  }
  ernie_session_free(s);
  ernie_model_free(model);
  return c;
}

std::vector<int32_t> random_ids(size_t n, uint64_t seed, int32_t vocab = 640) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> ids(n);
  for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab));
  return ids;
}

struct Variant {
  const char* name;
  Json config;
  test::HfWriteOptions write;
  size_t n_tokens = 12;
};

test::HfWriteOptions f32_weights() {
  test::HfWriteOptions w;
  w.dtype = ernie::DType::F32;
  w.weight_scale = kScale;
  return w;
}

}  // namespace

TEST_CASE("reference forward: unseen configurations and checkpoint layouts match float64") {
  std::vector<Variant> variants;
  auto add = [&](const char* name, auto edit_config, auto edit_write, size_t n_tokens = 12) {
    Variant v{name, base_config(true), f32_weights(), n_tokens};
    edit_config(v.config);
    edit_write(v.write);
    variants.push_back(std::move(v));
  };
  auto same = [](auto&) {};
  add("moe interval 2, start 1, end -1, 5 layers", [](Json& j) {
    j["num_hidden_layers"] = 5;
    j["moe_layer_interval"] = 2;
  }, same);
  add("moe start 0, end before the last layer", [](Json& j) {
    j["num_hidden_layers"] = 4;
    j["moe_layer_start_index"] = 0;
    j["moe_layer_end_index"] = 2;
  }, same);
  add("6 layers, 6/3 heads, head_dim 8", [](Json& j) {
    j["num_hidden_layers"] = 6;
    j["num_attention_heads"] = 6;
    j["num_key_value_heads"] = 3;
    j["head_dim"] = 8;
  }, same);
  add("8/1 heads, head_dim 64 (heads*hd != hidden), theta 500000, eps 1e-6", [](Json& j) {
    j["num_attention_heads"] = 8;
    j["num_key_value_heads"] = 1;
    j["head_dim"] = 64;
    j["rope_theta"] = 500000.0;
    j["rms_norm_eps"] = 1e-6;
  }, same);
  add("kv heads == heads, no head_dim key", [](Json& j) {
    j["num_key_value_heads"] = 4;
    j.erase("head_dim");
  }, same);
  add("top-1 of 8, 3 shared experts, untied head", [](Json& j) {
    j["moe_k"] = 1;
    j["moe_num_shared_experts"] = 3;
    j["tie_word_embeddings"] = false;
  }, same);
  add("top-8 of 8 (all experts), no shared experts", [](Json& j) {
    j["moe_k"] = 8;
    j["moe_num_shared_experts"] = 0;
  }, same);
  add("3 shards, fused qkv and up_gate, ernie. prefix, mtp tensors", same, [](test::HfWriteOptions& w) {
    w.shards = 3;
    w.fused_qkv = true;
    w.fused_up_gate = true;
    w.prefix = "ernie.";
    w.mtp = true;
  });
  add("no correction bias in the checkpoint", same, [](test::HfWriteOptions& w) { w.router_bias = false; });
  add("bf16 checkpoint, untied", [](Json& j) { j["tie_word_embeddings"] = false; },
      [](test::HfWriteOptions& w) { w.dtype = ernie::DType::BF16; });
  add("300 positions (RoPE far out)", [](Json& j) { j["num_hidden_layers"] = 2; }, same, 300);
  {
    Variant v{"dense Ernie4_5ForCausalLM, 4 layers, intermediate 136", base_config(false), f32_weights(), 12};
    v.config["num_hidden_layers"] = 4;
    v.config["intermediate_size"] = 136;
    variants.push_back(std::move(v));
  }

  for (size_t i = 0; i < variants.size(); ++i) {
    const Variant& v = variants[i];
    INFO(std::string(v.name));
    ModelConfig cfg = ModelConfig::from_json(v.config);
    test::ReferenceOptions ro;
    ro.seed = v.write.seed;
    ro.weight_scale = v.write.weight_scale;
    ro.dtype = v.write.dtype;
    ro.router_bias = v.write.router_bias;
    Comparison c = run_and_compare(cfg, v.write, random_ids(v.n_tokens, 1000 + i), ro);
    MESSAGE(std::string(v.name) << ": worst max|diff|/max|ref| = " << c.worst);
    CHECK(c.worst <= 1e-3);
    CHECK(c.argmax_equal);
  }
}

TEST_CASE("reference forward: the comparison catches a wrong RoPE layout") {
  ModelConfig cfg = ModelConfig::from_json(base_config(true));
  test::ReferenceOptions ro;
  ro.weight_scale = kScale;
  ro.neox_rope = true;  // the reference now computes the (wrong) half-split form
  Comparison c = run_and_compare(cfg, f32_weights(), random_ids(12, 7), ro);
  CHECK(c.worst > 1e-3);
}
