// The engine against an independent float64 forward pass on ERNIE 4.5
// configurations the golden data does not cover: other depths, MoE interval
// and range, head counts and sizes, top-k extremes, shared experts, the
// correction bias and moe_norm_min, tied or untied heads, f16/bf16 storage,
// every checkpoint layout variant (shards, fused names, prefix, MTP tensors),
// and far positions reached in one call, in batches, token by token and
// after a truncation. Checkpoints come from hf_writer; the reference
// (support/reference_forward) reads the same generated values directly.
// Tolerance (ERNIE45.md §9): at every position max|Δ| ≤ 1e-3 · max|ref| and the
// same argmax. A last group of tests shows the comparison fails on each of a
// set of deliberate mistakes in the reference.
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

constexpr float kScale = 0.15f;     // wide enough logit spread for a stable argmax
constexpr double kTolerance = 1e-3; // max|Δ| / max|ref| at every position

using Logits = std::vector<std::vector<float>>;
using RefLogits = std::vector<std::vector<double>>;

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

test::HfWriteOptions f32_weights() {
  test::HfWriteOptions w;
  w.dtype = ernie::DType::F32;
  w.weight_scale = kScale;
  return w;
}

test::ReferenceOptions reference_for(const test::HfWriteOptions& w) {
  test::ReferenceOptions ro;
  ro.seed = w.seed;
  ro.weight_scale = w.weight_scale;
  ro.dtype = w.dtype;
  ro.router_bias = w.router_bias;
  return ro;
}

std::vector<int32_t> random_ids(size_t n, uint64_t seed, int32_t vocab = 640) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> ids(n);
  for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab));
  return ids;
}

// A checkpoint written by hf_writer, packed with ernie_pack and loaded.
class Engine {
 public:
  Engine(const ModelConfig& cfg, const test::HfWriteOptions& w, int32_t pack_type = ERNIE_TYPE_AUTO) {
    std::filesystem::create_directories(dir_.file("hf"));
    test::write_hf_checkpoint(dir_.file("hf"), cfg, w);
    const std::string packed = dir_.file("m.ernie");
    ernie_pack_params pp;
    ernie_pack_params_init(&pp);
    pp.type = pack_type;
    // One packing thread: the packer's per-thread buffers dominate the cost of
    // packing these tiny checkpoints.
    pp.n_threads = 1;
    REQUIRE_MESSAGE(ernie_pack(dir_.file("hf").c_str(), packed.c_str(), &pp) == ERNIE_OK, ernie_last_error());
    ernie_model_params mp;
    ernie_model_params_init(&mp);
    mp.n_threads = 2;
    REQUIRE_MESSAGE(ernie_model_load(packed.c_str(), &mp, &model_) == ERNIE_OK, ernie_last_error());
  }
  ~Engine() { ernie_model_free(model_); }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Logits of every position of `ids`, fed as calls of `chunks` tokens each
  // (one call when empty) in a session of the given n_batch (0: default).
  Logits logits(const std::vector<int32_t>& ids, const std::vector<size_t>& chunks = {}, int32_t n_batch = 0) {
    ernie_session_params sp;
    ernie_session_params_init(&sp);
    sp.n_ctx = static_cast<int32_t>(ids.size());
    sp.n_batch = n_batch;
    ernie_session* s = nullptr;
    REQUIRE(ernie_session_create(model_, &sp, &s) == ERNIE_OK);
    Logits out = eval(s, ids, 0, chunks.empty() ? std::vector<size_t>{ids.size()} : chunks);
    ernie_session_free(s);
    return out;
  }

  // Evaluates ids[start...] in calls of `chunks` tokens on session s.
  static Logits eval(ernie_session* s, const std::vector<int32_t>& ids, size_t start, const std::vector<size_t>& chunks) {
    Logits out;
    size_t pos = start;
    for (size_t n : chunks) {
      REQUIRE(pos + n <= ids.size());
      REQUIRE_MESSAGE(ernie_session_eval(s, ids.data() + pos, n, ERNIE_EVAL_ALL_LOGITS) == ERNIE_OK,
                      ernie_last_error());
      for (size_t t = 0; t < n; ++t) {
        const float* got = nullptr;
        size_t vocab = 0;
        REQUIRE(ernie_session_logits(s, static_cast<int64_t>(t), &got, &vocab) == ERNIE_OK);
        out.emplace_back(got, got + vocab);
      }
      pos += n;
    }
    REQUIRE(pos == ids.size());
    return out;
  }

  ernie_model* model() { return model_; }

 private:
  test::TempDir dir_;
  ernie_model* model_ = nullptr;
};

// Worst max|Δ| / max|ref| over positions, and whether every argmax agrees.
struct Comparison {
  double worst = 0;
  bool argmax_equal = true;
  bool passes() const { return worst <= kTolerance && argmax_equal; }
};

Comparison compare(const Logits& got, const RefLogits& ref) {
  REQUIRE(got.size() == ref.size());
  Comparison c;
  for (size_t t = 0; t < ref.size(); ++t) {
    REQUIRE(got[t].size() == ref[t].size());
    double max_ref = 0, max_diff = 0;
    for (size_t v = 0; v < ref[t].size(); ++v) {
      max_ref = std::max(max_ref, std::fabs(ref[t][v]));
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(got[t][v]) - ref[t][v]));
    }
    c.worst = std::max(c.worst, max_diff / max_ref);
    c.argmax_equal &= (std::max_element(got[t].begin(), got[t].end()) - got[t].begin()) ==
                      (std::max_element(ref[t].begin(), ref[t].end()) - ref[t].begin());
  }
  return c;
}

// Largest |a - b| over all positions and ids (0 means bit-identical values).
double max_abs_diff(const Logits& a, const Logits& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (size_t t = 0; t < a.size(); ++t) {
    REQUIRE(a[t].size() == b[t].size());
    for (size_t v = 0; v < a[t].size(); ++v) d = std::max(d, std::fabs(static_cast<double>(a[t][v]) - b[t][v]));
  }
  return d;
}

struct Variant {
  std::string name;
  Json config;
  test::HfWriteOptions write;
  size_t n_tokens = 12;
  int32_t pack_type = ERNIE_TYPE_AUTO;
  bool expect_bias_matters = false;  // the correction bias must change some expert choice
  bool expect_clamp = false;         // moe_norm_min must clamp some weight sum
};

}  // namespace

// First the reference itself: on the golden checkpoints it must reproduce the
// logits an unrelated float64 implementation computed (ERNIE45.md §9), so the
// engine is not merely checked against a second reading of the same spec by
// the same hands.
TEST_CASE("reference forward: the reference reproduces the golden float64 logits") {
  for (const char* name : {"tiny-moe-a", "tiny-moe-b", "tiny-dense"}) {
    CAPTURE(std::string(name));
    const std::string dir = test::data_path(name);
    ModelConfig cfg = ModelConfig::from_json(Json::parse(test::read_file(dir + "/config.json")));
    test::ReferenceOptions ro;
    ro.source = test::safetensors_source(dir);
    auto cases = Json::parse(test::read_file(dir + "/golden/cases.json"))["cases"];
    double worst = 0;
    for (const auto& gc : cases) {
      const auto ids = gc["ids"].get<std::vector<int32_t>>();
      const std::vector<float> flat = test::read_f32(dir + "/golden/" + gc["logits_file"].get<std::string>());
      REQUIRE(flat.size() == ids.size() * static_cast<size_t>(cfg.vocab_size));
      Logits golden;
      for (size_t t = 0; t < ids.size(); ++t) {
        golden.emplace_back(flat.begin() + static_cast<std::ptrdiff_t>(t * cfg.vocab_size),
                            flat.begin() + static_cast<std::ptrdiff_t>((t + 1) * cfg.vocab_size));
      }
      Comparison c = compare(golden, test::reference_logits(cfg, ids, ro));
      CHECK(c.argmax_equal);
      worst = std::max(worst, c.worst);
    }
    MESSAGE(std::string(name) << ": reference vs golden, worst max|diff|/max|ref| = " << worst);
    CHECK(worst <= 1e-5);  // two float64 computations, one stored as f32
  }
}

TEST_CASE("reference forward: unseen configurations match float64") {
  std::vector<Variant> variants;
  auto add = [&](const char* name, auto edit_config, auto edit_write) -> Variant& {
    Variant v{name, base_config(true), f32_weights()};
    edit_config(v.config);
    edit_write(v.write);
    variants.push_back(std::move(v));
    return variants.back();
  };
  auto same = [](auto&) {};
  add("base: 3 layers, moe 1..2, 4/2 heads, hd 16, top-2 of 8, 1 shared", same, same).expect_bias_matters = true;
  add("moe interval 2, start 1, end -1, 5 layers (moe layers 1, 3), 7 tokens", [](Json& j) {
    j["num_hidden_layers"] = 5;
    j["moe_layer_interval"] = 2;
  }, same).n_tokens = 7;
  add("moe start 0, end 2 of 4 layers (last layer dense)", [](Json& j) {
    j["num_hidden_layers"] = 4;
    j["moe_layer_start_index"] = 0;
    j["moe_layer_end_index"] = 2;
  }, same);
  add("6 layers, interval 3, start 2, end 4 (only layer 2 moe), 16 experts top-4", [](Json& j) {
    j["num_hidden_layers"] = 6;
    j["moe_layer_interval"] = 3;
    j["moe_layer_start_index"] = 2;
    j["moe_layer_end_index"] = 4;
    j["moe_num_experts"] = 16;
    j["moe_k"] = 4;
  }, same).expect_bias_matters = true;
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
  add("kv heads == heads (6/6), no head_dim key (hd = 48/6 = 8)", [](Json& j) {
    j["num_attention_heads"] = 6;
    j["num_key_value_heads"] = 6;
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
  add("moe_norm_min 0.6 clamps the weight sum (top-1 of 8)", [](Json& j) {
    j["moe_k"] = 1;
    j["moe_norm_min"] = 0.6;
  }, same).expect_clamp = true;
  add("vocab 704 (padded beyond the 640 tokenizer pieces), untied", [](Json& j) {
    j["vocab_size"] = 704;
    j["tie_word_embeddings"] = false;
  }, same);
  add("no correction bias in the checkpoint", same, [](test::HfWriteOptions& w) { w.router_bias = false; });
  add("bf16 checkpoint, untied, 2 shards", [](Json& j) { j["tie_word_embeddings"] = false; },
      [](test::HfWriteOptions& w) {
        w.dtype = ernie::DType::BF16;
        w.shards = 2;
      });
  add("f16 checkpoint, theta 500000", [](Json& j) { j["rope_theta"] = 500000.0; },
      [](test::HfWriteOptions& w) { w.dtype = ernie::DType::F16; });
  add("f32 checkpoint packed as bf16 (norms stay f32)", same, same).pack_type = ERNIE_TYPE_BF16;
  add("bf16 checkpoint packed as f32", same, [](test::HfWriteOptions& w) { w.dtype = ernie::DType::BF16; })
      .pack_type = ERNIE_TYPE_F32;
  {
    Variant v{"dense Ernie4_5ForCausalLM, 4 layers, intermediate 136", base_config(false), f32_weights()};
    v.config["num_hidden_layers"] = 4;
    v.config["intermediate_size"] = 136;
    variants.push_back(std::move(v));
  }
  {
    Variant v{"dense, 2 layers, intermediate 40, 8/2 heads hd 8, untied, theta 500000, eps 1e-6, bf16 fused",
              base_config(false), f32_weights(), 20};
    v.config["num_hidden_layers"] = 2;
    v.config["intermediate_size"] = 40;
    v.config["num_attention_heads"] = 8;
    v.config["head_dim"] = 8;
    v.config["tie_word_embeddings"] = false;
    v.config["rope_theta"] = 500000.0;
    v.config["rms_norm_eps"] = 1e-6;
    v.write.dtype = ernie::DType::BF16;
    v.write.fused_qkv = true;
    v.write.fused_up_gate = true;
    v.write.prefix = "ernie.";
    variants.push_back(std::move(v));
  }

  for (size_t i = 0; i < variants.size(); ++i) {
    const Variant& v = variants[i];
    CAPTURE(v.name);
    ModelConfig cfg = ModelConfig::from_json(v.config);
    const auto ids = random_ids(v.n_tokens, 1000 + i, static_cast<int32_t>(cfg.vocab_size));
    test::ReferenceOptions ro = reference_for(v.write);
    if (v.pack_type == ERNIE_TYPE_BF16) {
      ro.dtype = ernie::DType::BF16;
      ro.round_norms = false;
    }
    test::ReferenceStats stats;
    ro.stats = &stats;
    Engine engine(cfg, v.write, v.pack_type);
    Comparison c = compare(engine.logits(ids), test::reference_logits(cfg, ids, ro));
    MESSAGE(v.name << ": worst max|diff|/max|ref| = " << c.worst << "; routings " << stats.routings
                   << ", changed by the bias " << stats.bias_changed << ", clamped " << stats.norm_min_clamped);
    CHECK(c.worst <= kTolerance);
    CHECK(c.argmax_equal);
    if (v.expect_bias_matters) CHECK(stats.bias_changed > 0);
    if (v.expect_clamp) CHECK(stats.norm_min_clamped > 0);
  }
}

TEST_CASE("reference forward: every checkpoint layout gives the same logits") {
  for (bool moe : {true, false}) {
    CAPTURE(moe);
    ModelConfig cfg = ModelConfig::from_json(base_config(moe));
    const auto ids = random_ids(9, moe ? 11 : 12);
    const test::HfWriteOptions plain = f32_weights();
    Logits base = Engine(cfg, plain).logits(ids);
    Comparison c = compare(base, test::reference_logits(cfg, ids, reference_for(plain)));
    CHECK(c.passes());

    std::vector<std::pair<const char*, test::HfWriteOptions>> layouts;
    auto add = [&](const char* name, auto edit) {
      test::HfWriteOptions w = plain;
      edit(w);
      layouts.emplace_back(name, w);
    };
    add("3 shards", [](test::HfWriteOptions& w) { w.shards = 3; });
    add("fused qkv", [](test::HfWriteOptions& w) { w.fused_qkv = true; });
    add("fused up_gate", [](test::HfWriteOptions& w) { w.fused_up_gate = true; });
    add("ernie. prefix", [](test::HfWriteOptions& w) { w.prefix = "ernie."; });
    add("mtp tensors", [](test::HfWriteOptions& w) { w.mtp = true; });
    add("lm_head.weight present though tied", [](test::HfWriteOptions& w) { w.lm_head_when_tied = true; });
    add("all of them", [](test::HfWriteOptions& w) {
      w.shards = 3;
      w.fused_qkv = true;
      w.fused_up_gate = true;
      w.prefix = "ernie.";
      w.mtp = true;
    });
    for (const auto& [name, w] : layouts) {
      // The dense form: only what differs from the MoE form (dense up_gate).
      if (!moe && std::string(name) != "fused up_gate" && std::string(name) != "all of them") continue;
      CAPTURE(std::string(name));
      CHECK(max_abs_diff(Engine(cfg, w).logits(ids), base) == 0.0);
    }
  }
}

TEST_CASE("reference forward: far positions in one call, in batches, token by token and after truncation") {
  Json j = base_config(true);
  j["num_hidden_layers"] = 2;
  j["moe_layer_start_index"] = 0;
  ModelConfig cfg = ModelConfig::from_json(j);
  const test::HfWriteOptions w = f32_weights();
  const size_t n = 300;
  const auto ids = random_ids(n, 77);
  const RefLogits ref = test::reference_logits(cfg, ids, reference_for(w));
  Engine engine(cfg, w);

  // One call.
  const Logits whole = engine.logits(ids);
  Comparison c = compare(whole, ref);
  MESSAGE("300 positions, one call: worst " << c.worst);
  CHECK(c.passes());

  // n_batch 64, uneven calls, then the last 20 positions one at a time.
  std::vector<size_t> chunks = {1, 150, 129};
  chunks.resize(chunks.size() + 20, 1);
  const Logits pieces = engine.logits(ids, chunks, 64);
  c = compare(pieces, ref);
  MESSAGE("300 positions in batches of <= 64, the last 20 token by token: worst " << c.worst);
  CHECK(c.passes());
  CHECK(max_abs_diff(pieces, whole) == 0.0);  // documented: same result however tokens are fed

  // Truncate to 200 and continue with other tokens: stale cache rows past 200
  // must not be seen.
  std::vector<int32_t> other(ids.begin(), ids.begin() + 200);
  for (int32_t id : random_ids(16, 78)) other.push_back(id);
  const RefLogits ref_other = test::reference_logits(cfg, other, reference_for(w));
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = static_cast<int32_t>(n);
  ernie_session* s = nullptr;
  REQUIRE(ernie_session_create(engine.model(), &sp, &s) == ERNIE_OK);
  Engine::eval(s, ids, 0, {n});
  REQUIRE(ernie_session_truncate(s, 200) == ERNIE_OK);
  const Logits rest = Engine::eval(s, other, 200, {10, 1, 5});
  ernie_session_free(s);
  c = compare(rest, RefLogits(ref_other.begin() + 200, ref_other.end()));
  MESSAGE("positions 200..215 after truncating 300 to 200: worst " << c.worst);
  CHECK(c.passes());
}

// The comparison is only worth something if it fails on a wrong forward pass:
// each mistake below, made by the reference, must be reported.
TEST_CASE("reference forward: the comparison catches deliberate mistakes") {
  ModelConfig cfg = ModelConfig::from_json(base_config(true));
  const test::HfWriteOptions w = f32_weights();
  const auto ids = random_ids(12, 7);
  Engine engine(cfg, w);
  const Logits got = engine.logits(ids);
  CHECK(compare(got, test::reference_logits(cfg, ids, reference_for(w))).passes());

  struct Mistake {
    const char* name;
    void (*apply)(test::ReferenceOptions&);
  };
  const Mistake mistakes[] = {
      {"half-split (NeoX) RoPE", [](test::ReferenceOptions& o) { o.neox_rope = true; }},
      {"kv head j % nkv", [](test::ReferenceOptions& o) { o.gqa_modulo = true; }},
      {"correction bias ignored", [](test::ReferenceOptions& o) { o.router_bias = false; }},
      {"expert weights from biased scores", [](test::ReferenceOptions& o) { o.weights_from_biased = true; }},
      {"one element of one weight 2% off", [](test::ReferenceOptions& o) {
         o.edit_weight = [](const std::string& name, uint64_t i, double v) {
           return name == "layers.0.self_attn.v_proj.weight" && i == 5 ? v * 1.02 : v;
         };
       }},
  };
  for (const Mistake& m : mistakes) {
    test::ReferenceOptions ro = reference_for(w);
    m.apply(ro);
    Comparison c = compare(got, test::reference_logits(cfg, ids, ro));
    MESSAGE(std::string(m.name) << ": worst " << c.worst << std::string(c.argmax_equal ? "" : ", argmax differs"));
    CHECK_MESSAGE(!c.passes(), std::string(m.name));
  }
}
