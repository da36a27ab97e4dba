// Typed views of the packed file's tensors, grouped the way the forward pass
// uses them. Views point into the mapped file: weights are never copied.
#pragma once

#include <cstdint>
#include <vector>

#include "format/dtype.h"
#include "model/config.h"

namespace ernie {

class PackedFile;

// A matrix (or a stack of matrices, for routed experts) of `rows` x `cols`.
struct TensorView {
  DType type = DType::F32;
  int64_t n_mats = 1;  // > 1 for stacked expert tensors [E, rows, cols]
  int64_t rows = 0;
  int64_t cols = 0;
  uint64_t row_bytes = 0;
  const uint8_t* data = nullptr;

  bool empty() const { return data == nullptr; }
  const uint8_t* row(int64_t mat, int64_t r) const {
    return data + (static_cast<uint64_t>(mat) * static_cast<uint64_t>(rows) + static_cast<uint64_t>(r)) * row_bytes;
  }
};

struct LayerWeights {
  bool is_moe = false;
  TensorView attn_norm, attn_q, attn_k, attn_v, attn_o, ffn_norm;
  TensorView ffn_gate, ffn_up, ffn_down;                 // dense layers
  TensorView router, router_bias;                        // MoE: f32 [E,H], [E]
  TensorView gate_exps, up_exps, down_exps;              // MoE: stacked [E, Ie, H] / [E, H, Ie]
  TensorView gate_shexp, up_shexp, down_shexp;           // MoE: shared experts (may be empty)
};

// Storage of a session's KV cache.
enum class KvType { F32, F16 };

struct ModelWeights {
  ModelConfig config;
  TensorView token_embd, output_norm, output;  // output aliases token_embd when tied
  std::vector<LayerWeights> layers;
  uint64_t n_params = 0;
  uint64_t bytes = 0;
  bool quantized = false;  // some matrix is stored in a quantized type

  // f32 keeps float-weight models exact; quantized models take f16 (the
  // rounding is far below the weights' own).
  KvType default_kv_type() const { return quantized ? KvType::F16 : KvType::F32; }
};

// Binds every tensor of `config` (tensor_names.h) to the file, checking that
// each is present with the expected shape and a supported type (norms and
// the router must be f32-compatible). Throws ERNIE_E_INVALID_MODEL.
ModelWeights bind_weights(const PackedFile& file, const ModelConfig& config);

}  // namespace ernie
