#include "model/tensor_names.h"

namespace ernie {

std::string layer_tensor_name(int64_t layer, const char* suffix) {
  return "blk." + std::to_string(layer) + "." + suffix;
}

std::vector<TensorSpec> expected_tensors(const ModelConfig& c) {
  const int64_t H = c.hidden_size;
  std::vector<TensorSpec> t;
  t.push_back({"token_embd", {c.vocab_size, H}, TensorRole::Embedding});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    auto n = [&](const char* s) { return layer_tensor_name(i, s); };
    t.push_back({n("attn_norm"), {H}, TensorRole::Norm});
    t.push_back({n("attn_q"), {c.q_dim(), H}, TensorRole::Attention});
    t.push_back({n("attn_k"), {c.kv_dim(), H}, TensorRole::Attention});
    t.push_back({n("attn_v"), {c.kv_dim(), H}, TensorRole::Attention});
    t.push_back({n("attn_o"), {H, c.q_dim()}, TensorRole::Attention});
    t.push_back({n("ffn_norm"), {H}, TensorRole::Norm});
    if (c.layer_is_moe(i)) {
      const int64_t E = c.moe_num_experts, Ie = c.moe_intermediate_size;
      t.push_back({n("moe_router"), {E, H}, TensorRole::Router});
      t.push_back({n("moe_router_bias"), {E}, TensorRole::Router});
      t.push_back({n("moe_gate_exps"), {E, Ie, H}, TensorRole::RoutedExpert});
      t.push_back({n("moe_up_exps"), {E, Ie, H}, TensorRole::RoutedExpert});
      t.push_back({n("moe_down_exps"), {E, H, Ie}, TensorRole::RoutedExpert});
      if (c.moe_num_shared_experts > 0) {
        const int64_t Is = c.shared_intermediate();
        t.push_back({n("moe_gate_shexp"), {Is, H}, TensorRole::SharedExpert});
        t.push_back({n("moe_up_shexp"), {Is, H}, TensorRole::SharedExpert});
        t.push_back({n("moe_down_shexp"), {H, Is}, TensorRole::SharedExpert});
      }
    } else {
      t.push_back({n("ffn_gate"), {c.intermediate_size, H}, TensorRole::DenseMlp});
      t.push_back({n("ffn_up"), {c.intermediate_size, H}, TensorRole::DenseMlp});
      t.push_back({n("ffn_down"), {H, c.intermediate_size}, TensorRole::DenseMlp});
    }
  }
  t.push_back({"output_norm", {H}, TensorRole::Norm});
  if (!c.tie_word_embeddings) t.push_back({"output", {c.vocab_size, H}, TensorRole::OutputHead});
  return t;
}

}  // namespace ernie
