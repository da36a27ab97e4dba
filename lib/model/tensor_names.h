// The canonical tensor set of a packed model: names, shapes and which
// tensors must stay f32, derived from the config alone. `pack` lays files out
// from this list and the loader checks a packed file against it, so both
// agree by construction. Names (docs/format.md):
//   token_embd [V,H]   output_norm [H]   output [V,H] (untied only)
//   blk.N.attn_norm [H]  blk.N.attn_q [nh*hd,H]  blk.N.attn_k / attn_v [nkv*hd,H]
//   blk.N.attn_o [H,nh*hd]  blk.N.ffn_norm [H]
//   dense layer: blk.N.ffn_gate / ffn_up [I,H]  blk.N.ffn_down [H,I]
//   MoE layer:   blk.N.moe_router [E,H] f32  blk.N.moe_router_bias [E] f32
//                blk.N.moe_gate_exps / moe_up_exps [E,Ie,H]  blk.N.moe_down_exps [E,H,Ie]
//                blk.N.moe_gate_shexp / moe_up_shexp [Ie*ns,H]  blk.N.moe_down_shexp [H,Ie*ns]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace ernie {

enum class TensorRole {
  Embedding,
  OutputHead,
  Norm,
  Attention,
  DenseMlp,
  Router,       // router weight and correction bias: always f32
  RoutedExpert,
  SharedExpert,
};

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;  // logical shape, outermost first; rows = shape[-2]
  TensorRole role;
};

// Rows of each matrix of a tensor of this shape (shape[-2]; 1 for a vector).
inline int64_t matrix_rows(const std::vector<int64_t>& shape) {
  return shape.size() >= 2 ? shape[shape.size() - 2] : 1;
}

std::vector<TensorSpec> expected_tensors(const ModelConfig& config);

std::string layer_tensor_name(int64_t layer, const char* suffix);  // "blk.N.suffix"

}  // namespace ernie
