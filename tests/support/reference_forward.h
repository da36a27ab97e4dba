// An independent float64 ERNIE 4.5 forward pass (ERNIE45.md §3), written for
// clarity, llama2.c style, over the weights hf_writer generates. Tests run
// the engine on checkpoints hf_writer writes and compare with this.
#pragma once

#include <cstdint>
#include <vector>

#include "format/dtype.h"
#include "model/config.h"

namespace test {

struct ReferenceOptions {
  uint64_t seed = 1;
  float weight_scale = 0.02f;
  ernie::DType dtype = ernie::DType::F32;  // weights are rounded to it (router stays f32)
  bool router_bias = true;
  bool neox_rope = false;                  // the wrong RoPE layout, to show a test can fail
};

// Logits [T][vocab] for every position of `ids`.
std::vector<std::vector<double>> reference_logits(const ernie::ModelConfig& config, const std::vector<int32_t>& ids,
                                                  const ReferenceOptions& options);

}  // namespace test
