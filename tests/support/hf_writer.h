// Writes a Hugging Face-layout ERNIE 4.5 checkpoint directory (config.json,
// safetensors shard(s) [+ index], tokenizer.model, tokenizer_config.json)
// for any ModelConfig, with seeded pseudo-random weights. Tensors are
// generated and written in bounded chunks, so multi-GB checkpoints cost
// little memory.
//
// Every weight value is a pure function of (seed, unfused tensor name without
// prefix, element index): the layout options (fused names, prefix, shards,
// extra tensors) never change the values, so all layouts of one config and
// seed pack to the same tensors. Matrices are ~N(0, weight_scale²), norms
// ~1 + N(0, 0.1²), the router correction bias ~N(0, 0.05²).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/dtype.h"
#include "model/config.h"

namespace test {

using ernie::DType;
using ernie::ModelConfig;

// One safetensors tensor as it will be written.
struct HfTensor {
  std::string name;                // full name: "model.layers.0.self_attn.q_proj.weight"
  std::string dtype;               // "F32", "F16", "BF16"; others ("I8", "F64", ...) write derived values
  std::vector<int64_t> shape;
  // Unfused tensors (names without prefix) whose values, concatenated, fill
  // this one. If their element counts do not add up to the shape's (after an
  // edit), values are generated from `name` instead.
  struct Part {
    std::string name;
    uint64_t elements = 0;
  };
  std::vector<Part> parts;
};

struct HfWriteOptions {
  DType dtype = DType::BF16;      // weights; the MoE router and its bias are always F32 (as in ERNIE checkpoints)
  int shards = 1;                 // > 1: model-0000K-of-0000N.safetensors + model.safetensors.index.json
  bool fused_qkv = false;         // self_attn.qkv_proj instead of q/k/v_proj
  bool fused_up_gate = false;     // mlp.up_gate_proj (dense, shared and routed experts)
  std::string prefix = "model.";  // or "ernie."
  bool mtp = false;               // add multi-token-prediction tensors (to be ignored)
  bool lm_head_when_tied = false; // write lm_head.weight even for a tied config
  bool router_bias = true;        // write mlp.moe_statics.e_score_correction_bias
  uint64_t seed = 1;
  float weight_scale = 0.02f;
  std::string tokenizer_model = ERNIE_TEST_DATA_DIR "/tiny-moe-a/tokenizer.model";  // copied
  std::string chat_template;      // into tokenizer_config.json when not empty
  nlohmann::ordered_json tokenizer_config_extra = nlohmann::ordered_json::object();  // merged in
  // Called for every tensor before anything is written: change its name,
  // dtype, shape or parts; an empty name drops it. Extra tensors: append.
  std::function<void(std::vector<HfTensor>&)> edit;
};

void write_hf_checkpoint(const std::string& dir, const ModelConfig& config, const HfWriteOptions& options = {});

// The generated value (before rounding to the stored dtype) of element
// `index` of the unfused tensor `name` (without prefix, e.g.
// "layers.1.mlp.experts.3.up_proj.weight").
float hf_weight_value(std::string_view name, uint64_t index, uint64_t seed, float weight_scale = 0.02f);

// A config.json for `config` as Hugging Face writes it.
nlohmann::ordered_json hf_config_json(const ModelConfig& config, DType dtype);

}  // namespace test
