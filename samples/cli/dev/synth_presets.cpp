#include "dev/synth_presets.h"

#include "util/error.h"

namespace ernie::dev {
namespace {

Json common() {
  return {{"rope_theta", 500000.0}, {"rms_norm_eps", 1e-5},  {"use_bias", false},     {"hidden_act", "silu"},
          {"bos_token_id", 1},      {"eos_token_id", 2},      {"pad_token_id", 0},    {"torch_dtype", "bfloat16"}};
}

Json moe_21b_a3b() {
  Json j = {{"architectures", {"Ernie4_5_MoeForCausalLM"}},
            {"model_type", "ernie4_5_moe"},
            {"hidden_size", 2560},
            {"intermediate_size", 12288},
            {"moe_intermediate_size", 1536},
            {"num_hidden_layers", 28},
            {"num_attention_heads", 20},
            {"num_key_value_heads", 4},
            {"head_dim", 128},
            {"vocab_size", 103424},
            {"max_position_embeddings", 131072},
            {"tie_word_embeddings", true},
            {"moe_num_experts", 64},
            {"moe_k", 6},
            {"moe_num_shared_experts", 2},
            {"moe_layer_start_index", 1},
            {"moe_layer_end_index", 27},
            {"moe_layer_interval", 1},
            {"moe_norm_min", 1e-12}};
  j.update(common());
  return j;
}

Json dense_0p3b() {
  Json j = {{"architectures", {"Ernie4_5ForCausalLM"}},
            {"model_type", "ernie4_5"},
            {"hidden_size", 1024},
            {"intermediate_size", 3072},
            {"num_hidden_layers", 18},
            {"num_attention_heads", 16},
            {"num_key_value_heads", 2},
            {"head_dim", 128},
            {"vocab_size", 103424},
            {"max_position_embeddings", 131072},
            {"tie_word_embeddings", true}};
  j.update(common());
  return j;
}

// Small enough for unit tests (a few MB), yet every row length is a whole
// number of 256-value blocks so each recipe quantizes every matrix; untied,
// so the output head is a tensor of its own.
Json tiny_moe() {
  Json j = {{"architectures", {"Ernie4_5_MoeForCausalLM"}},
            {"model_type", "ernie4_5_moe"},
            {"hidden_size", 256},
            {"intermediate_size", 512},
            {"moe_intermediate_size", 256},
            {"num_hidden_layers", 3},
            {"num_attention_heads", 4},
            {"num_key_value_heads", 2},
            {"head_dim", 64},
            {"vocab_size", 1024},
            {"max_position_embeddings", 4096},
            {"tie_word_embeddings", false},
            {"moe_num_experts", 8},
            {"moe_k", 2},
            {"moe_num_shared_experts", 1},
            {"moe_layer_start_index", 1},
            {"moe_layer_end_index", -1},
            {"moe_layer_interval", 1},
            {"moe_norm_min", 1e-12}};
  j.update(common());
  return j;
}

}  // namespace

const std::vector<std::string>& synth_preset_names() {
  static const std::vector<std::string> names = {"21b-a3b", "0.3b", "tiny"};
  return names;
}

Json synth_preset_config_json(const std::string& name) {
  if (name == "21b-a3b") return moe_21b_a3b();
  if (name == "0.3b") return dense_0p3b();
  if (name == "tiny") return tiny_moe();
  ERNIE_FAIL(ERNIE_E_INVALID_ARGUMENT, "unknown preset '%s' (expected 21b-a3b, 0.3b or tiny)", name.c_str());
}

}  // namespace ernie::dev
