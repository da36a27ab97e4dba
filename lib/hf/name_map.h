// Hugging Face ERNIE 4.5 tensor names -> canonical packed tensor names
// (model/tensor_names.h). Purely structural: whether the canonical tensor
// exists for a given config is the caller's check. Accepted forms
// (docs/pack.md): prefix "model." or "ernie." (lm_head.weight bare), split or
// fused q/k/v (`self_attn.qkv_proj`: rows q, k, v) and gate/up
// (`up_gate_proj`: rows gate, up) for the dense MLP, the shared experts and
// each routed expert; routed experts map to one slice of the stacked tensor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ernie {

// The source tensor's rows, in order, are the concatenation of its targets.
struct HfTarget {
  std::string canonical;  // "blk.1.attn_q", "token_embd", ...
  int64_t slice = -1;     // expert index in a stacked [E, ...] tensor; -1: the whole tensor
};

struct HfMapping {
  bool ignored = false;          // multi-token-prediction tensors (name contains "mtp")
  std::vector<HfTarget> targets;  // empty when ignored
};

// nullopt: not a tensor of an ERNIE 4.5 checkpoint.
std::optional<HfMapping> map_hf_name(std::string_view hf_name);

// The unfused HF name that supplies `canonical` (or its expert `slice`), for
// messages about missing tensors: "model.layers.1.mlp.experts.3.up_proj.weight".
std::string hf_name_for(std::string_view canonical, int64_t slice, std::string_view prefix = "model.");

}  // namespace ernie
