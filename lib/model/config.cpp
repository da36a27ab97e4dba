#include "model/config.h"

#include <cmath>

#include "util/error.h"

namespace ernie {
namespace {

// Bounds far above any ERNIE 4.5 model, far below sizes that would make a
// hostile config allocate absurd amounts of memory.
constexpr int64_t kMaxHidden = 1 << 16;
constexpr int64_t kMaxIntermediate = 1 << 18;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 1024;
constexpr int64_t kMaxVocab = 1 << 22;
constexpr int64_t kMaxPositions = 1 << 24;
constexpr int64_t kMaxExperts = 4096;

int64_t get_int(const Json& j, const char* key, bool required, int64_t fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    ERNIE_CHECK(!required, ERNIE_E_INVALID_MODEL, "config: missing required key '%s'", key);
    return fallback;
  }
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) {
    double d = it->get<double>();
    ERNIE_CHECK(std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15, ERNIE_E_INVALID_MODEL,
                "config: '%s' must be an integer", key);
    return static_cast<int64_t>(d);
  }
  ERNIE_FAIL(ERNIE_E_INVALID_MODEL, "config: '%s' must be an integer", key);
}

double get_float(const Json& j, const char* key, double fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  ERNIE_CHECK(it->is_number(), ERNIE_E_INVALID_MODEL, "config: '%s' must be a number", key);
  double d = it->get<double>();
  ERNIE_CHECK(std::isfinite(d), ERNIE_E_INVALID_MODEL, "config: '%s' must be finite", key);
  return d;
}

bool get_bool(const Json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  ERNIE_CHECK(it->is_boolean(), ERNIE_E_INVALID_MODEL, "config: '%s' must be true or false", key);
  return it->get<bool>();
}

// eos_token_id may be an int or a list of ints (generation stops on any).
int64_t get_token_id(const Json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  if (it != j.end() && it->is_array()) {
    ERNIE_CHECK(!it->empty() && (*it)[0].is_number_integer(), ERNIE_E_INVALID_MODEL,
                "config: '%s' must be an integer or a list of integers", key);
    return (*it)[0].get<int64_t>();
  }
  return get_int(j, key, false, fallback);
}

void check_range(const char* key, int64_t v, int64_t lo, int64_t hi) {
  ERNIE_CHECK(v >= lo && v <= hi, ERNIE_E_INVALID_MODEL,
              "config: '%s' = %lld is out of range [%lld, %lld]", key, static_cast<long long>(v),
              static_cast<long long>(lo), static_cast<long long>(hi));
}

}  // namespace

ModelConfig ModelConfig::from_json(const Json& j) {
  ERNIE_CHECK(j.is_object(), ERNIE_E_INVALID_MODEL, "config: not a JSON object");
  ModelConfig c;
  auto arch = j.find("architectures");
  if (arch != j.end() && arch->is_array() && !arch->empty() && (*arch)[0].is_string()) {
    c.architecture = (*arch)[0].get<std::string>();
  } else {
    auto mt = j.find("model_type");
    ERNIE_CHECK(mt != j.end() && mt->is_string(), ERNIE_E_INVALID_MODEL,
                "config: neither 'architectures' nor 'model_type' names the model");
    std::string t = mt->get<std::string>();
    c.architecture = t == "ernie4_5_moe" ? "Ernie4_5_MoeForCausalLM"
                     : t == "ernie4_5"   ? "Ernie4_5ForCausalLM"
                                         : t;
  }
  if (c.architecture == "Ernie4_5_MoeForCausalLM") {
    c.is_moe = true;
  } else if (c.architecture == "Ernie4_5ForCausalLM") {
    c.is_moe = false;
  } else {
    ERNIE_FAIL(ERNIE_E_UNSUPPORTED,
               "config: architecture '%s' is not supported (expected Ernie4_5_MoeForCausalLM or "
               "Ernie4_5ForCausalLM)",
               c.architecture.c_str());
  }

  c.hidden_size = get_int(j, "hidden_size", true, 0);
  c.intermediate_size = get_int(j, "intermediate_size", true, 0);
  c.num_layers = get_int(j, "num_hidden_layers", true, 0);
  c.n_heads = get_int(j, "num_attention_heads", true, 0);
  c.n_kv_heads = get_int(j, "num_key_value_heads", false, c.n_heads);
  check_range("hidden_size", c.hidden_size, 1, kMaxHidden);
  check_range("num_attention_heads", c.n_heads, 1, kMaxHeads);
  c.head_dim = get_int(j, "head_dim", false, c.hidden_size / c.n_heads);
  c.vocab_size = get_int(j, "vocab_size", true, 0);
  c.max_position_embeddings = get_int(j, "max_position_embeddings", false, 4096);
  c.rope_theta = get_float(j, "rope_theta", 10000.0);
  c.rms_norm_eps = get_float(j, "rms_norm_eps", 1e-6);
  c.tie_word_embeddings = get_bool(j, "tie_word_embeddings", true);
  c.bos_id = get_token_id(j, "bos_token_id", 1);
  c.eos_id = get_token_id(j, "eos_token_id", 2);
  c.pad_id = get_token_id(j, "pad_token_id", 0);
  ERNIE_CHECK(!get_bool(j, "use_bias", false), ERNIE_E_UNSUPPORTED,
              "config: use_bias=true is not supported (no ERNIE 4.5 checkpoint uses it)");
  auto act = j.find("hidden_act");
  ERNIE_CHECK(act == j.end() || (act->is_string() && act->get<std::string>() == "silu"),
              ERNIE_E_UNSUPPORTED, "config: only hidden_act='silu' is supported");
  auto scaling = j.find("rope_scaling");
  ERNIE_CHECK(scaling == j.end() || scaling->is_null(), ERNIE_E_UNSUPPORTED,
              "config: rope_scaling is not supported");

  if (c.is_moe) {
    c.moe_intermediate_size = get_int(j, "moe_intermediate_size", true, 0);
    c.moe_num_experts = get_int(j, "moe_num_experts", true, 0);
    c.moe_k = get_int(j, "moe_k", true, 0);
    c.moe_num_shared_experts = get_int(j, "moe_num_shared_experts", false, 0);
    c.moe_layer_start_index = get_int(j, "moe_layer_start_index", false, 0);
    c.moe_layer_end_index = get_int(j, "moe_layer_end_index", false, -1);
    c.moe_layer_interval = get_int(j, "moe_layer_interval", false, 1);
    c.moe_norm_min = get_float(j, "moe_norm_min", 1e-12);
    if (c.moe_layer_end_index == -1) c.moe_layer_end_index = c.num_layers - 1;
  }
  c.validate();
  return c;
}

void ModelConfig::validate() const {
  check_range("hidden_size", hidden_size, 1, kMaxHidden);
  check_range("intermediate_size", intermediate_size, 1, kMaxIntermediate);
  check_range("num_hidden_layers", num_layers, 1, kMaxLayers);
  check_range("num_attention_heads", n_heads, 1, kMaxHeads);
  check_range("num_key_value_heads", n_kv_heads, 1, n_heads);
  check_range("head_dim", head_dim, 2, kMaxHeadDim);
  ERNIE_CHECK(head_dim % 2 == 0, ERNIE_E_INVALID_MODEL,
              "config: head_dim = %lld must be even (RoPE rotates pairs)", static_cast<long long>(head_dim));
  ERNIE_CHECK(n_heads % n_kv_heads == 0, ERNIE_E_INVALID_MODEL,
              "config: num_attention_heads (%lld) is not a multiple of num_key_value_heads (%lld)",
              static_cast<long long>(n_heads), static_cast<long long>(n_kv_heads));
  check_range("vocab_size", vocab_size, 3, kMaxVocab);
  check_range("max_position_embeddings", max_position_embeddings, 1, kMaxPositions);
  ERNIE_CHECK(rope_theta > 0, ERNIE_E_INVALID_MODEL, "config: rope_theta must be positive");
  ERNIE_CHECK(rms_norm_eps > 0 && rms_norm_eps < 1, ERNIE_E_INVALID_MODEL,
              "config: rms_norm_eps must be in (0, 1)");
  for (int64_t id : {bos_id, eos_id, pad_id}) {
    ERNIE_CHECK(id >= 0 && id < vocab_size, ERNIE_E_INVALID_MODEL,
                "config: special token id %lld is outside the vocabulary", static_cast<long long>(id));
  }
  if (!is_moe) return;
  check_range("moe_intermediate_size", moe_intermediate_size, 1, kMaxIntermediate);
  check_range("moe_num_experts", moe_num_experts, 1, kMaxExperts);
  check_range("moe_k", moe_k, 1, moe_num_experts);
  check_range("moe_num_shared_experts", moe_num_shared_experts, 0, 64);
  check_range("moe_layer_interval", moe_layer_interval, 1, num_layers);
  check_range("moe_layer_start_index", moe_layer_start_index, 0, num_layers - 1);
  check_range("moe_layer_end_index", moe_layer_end_index, moe_layer_start_index, num_layers - 1);
  ERNIE_CHECK(moe_norm_min >= 0, ERNIE_E_INVALID_MODEL, "config: moe_norm_min must be >= 0");
  ERNIE_CHECK(n_moe_layers() > 0, ERNIE_E_INVALID_MODEL,
              "config: the MoE layer range and interval select no layer");
}

bool ModelConfig::layer_is_moe(int64_t i) const {
  return is_moe && (i + 1) % moe_layer_interval == 0 && i >= moe_layer_start_index &&
         i <= moe_layer_end_index;
}

int64_t ModelConfig::n_moe_layers() const {
  int64_t n = 0;
  for (int64_t i = 0; i < num_layers; ++i) n += layer_is_moe(i) ? 1 : 0;
  return n;
}

Json ModelConfig::to_json() const {
  Json j;
  j["architectures"] = Json::array({architecture});
  j["model_type"] = is_moe ? "ernie4_5_moe" : "ernie4_5";
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_layers;
  j["num_attention_heads"] = n_heads;
  j["num_key_value_heads"] = n_kv_heads;
  j["head_dim"] = head_dim;
  j["vocab_size"] = vocab_size;
  j["max_position_embeddings"] = max_position_embeddings;
  j["rope_theta"] = rope_theta;
  j["rms_norm_eps"] = rms_norm_eps;
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["bos_token_id"] = bos_id;
  j["eos_token_id"] = eos_id;
  j["pad_token_id"] = pad_id;
  if (is_moe) {
    j["moe_intermediate_size"] = moe_intermediate_size;
    j["moe_num_experts"] = moe_num_experts;
    j["moe_k"] = moe_k;
    j["moe_num_shared_experts"] = moe_num_shared_experts;
    j["moe_layer_start_index"] = moe_layer_start_index;
    j["moe_layer_end_index"] = moe_layer_end_index;
    j["moe_layer_interval"] = moe_layer_interval;
    j["moe_norm_min"] = moe_norm_min;
  }
  return j;
}

}  // namespace ernie
