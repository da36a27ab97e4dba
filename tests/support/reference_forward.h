// An independent float64 ERNIE 4.5 forward pass (ERNIE45.md §3), written for
// clarity, llama2.c style, over the weights hf_writer generates. Tests run
// the engine on checkpoints hf_writer writes and compare with this.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "format/dtype.h"
#include "model/config.h"

namespace test {

// What the reference saw while routing tokens (MoE layers only), so a test can
// show that a feature it claims to cover actually mattered.
struct ReferenceStats {
  int64_t routings = 0;          // (token, MoE layer) pairs routed
  int64_t bias_changed = 0;      // ... whose chosen expert set differs from top-k of p alone
  int64_t norm_min_clamped = 0;  // ... where sum(p[sel]) < moe_norm_min
};

// Element `index` of the unfused tensor `name` (HF name without the "model."
// prefix, e.g. "layers.1.mlp.experts.3.up_proj.weight"), as stored.
using WeightSource = std::function<double(const std::string& name, uint64_t index)>;

struct ReferenceOptions {
  // Where the weights come from: hf_writer's generator (seed, scale, rounded
  // to dtype) unless `source` is set.
  WeightSource source;
  uint64_t seed = 1;
  float weight_scale = 0.02f;
  ernie::DType dtype = ernie::DType::F32;  // weights are rounded to it (router stays f32)
  bool round_norms = true;                 // false: norms stay f32 (a packer-converted checkpoint)
  bool router_bias = true;
  ReferenceStats* stats = nullptr;         // filled when set

  // Deliberate mistakes, to show the comparison catches them.
  bool neox_rope = false;               // half-split RoPE instead of interleaved pairs
  bool gqa_modulo = false;              // query head j uses kv head j % nkv instead of j / (nh / nkv)
  bool weights_from_biased = false;     // expert weights from p + bias instead of p
  // Called for every weight element (unfused HF name without prefix, index,
  // stored value); returns the value to use.
  std::function<double(const std::string&, uint64_t, double)> edit_weight;
};

// The weights of a Hugging Face checkpoint directory (model.safetensors, or
// shards + model.safetensors.index.json; unfused names, "model." prefix;
// F32, F16 or BF16), read with a few lines of code of its own.
WeightSource safetensors_source(const std::string& dir);

// Logits [T][vocab] for every position of `ids`.
std::vector<std::vector<double>> reference_logits(const ernie::ModelConfig& config, const std::vector<int32_t>& ids,
                                                  const ReferenceOptions& options);

}  // namespace test
