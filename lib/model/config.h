// The ERNIE 4.5 model configuration: parsed from a Hugging Face config.json
// (and from the packed file's metadata, which stores the same keys), checked
// for absurd or inconsistent values before anything is sized from it.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ernie {

using Json = nlohmann::ordered_json;

struct ModelConfig {
  std::string architecture;  // "Ernie4_5_MoeForCausalLM" or "Ernie4_5ForCausalLM"
  bool is_moe = false;

  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = true;
  int64_t bos_id = 1, eos_id = 2, pad_id = 0;

  // Mixture of experts (is_moe only).
  int64_t moe_intermediate_size = 0;
  int64_t moe_num_experts = 0;
  int64_t moe_k = 0;
  int64_t moe_num_shared_experts = 0;
  int64_t moe_layer_start_index = 0;
  int64_t moe_layer_end_index = 0;  // already resolved: -1 in config.json means last layer
  int64_t moe_layer_interval = 1;
  double moe_norm_min = 1e-12;

  // Parses config.json keys (Hugging Face naming) and validates. Throws
  // ernie::Error(ERNIE_E_INVALID_MODEL) naming the offending key.
  static ModelConfig from_json(const Json& j);
  // The normalized config, in the same keys, as stored in packed metadata.
  Json to_json() const;
  // Throws ERNIE_E_INVALID_MODEL on absurd or inconsistent values.
  void validate() const;

  bool layer_is_moe(int64_t layer) const;
  int64_t n_moe_layers() const;
  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  int64_t shared_intermediate() const { return moe_intermediate_size * moe_num_shared_experts; }
};

}  // namespace ernie
