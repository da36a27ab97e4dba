#include "model/weights.h"

#include <string>

#include "format/packed_file.h"
#include "model/tensor_names.h"
#include "util/error.h"

namespace ernie {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

TensorView view_of(const PackedFile& file, const TensorSpec& spec) {
  const TensorInfo* t = file.find(spec.name);
  ERNIE_CHECK(t, ERNIE_E_INVALID_MODEL, "packed model: tensor '%s' is missing", spec.name.c_str());
  ERNIE_CHECK(t->shape == spec.shape, ERNIE_E_INVALID_MODEL,
              "packed model: tensor '%s' has shape %s, expected %s from the config", spec.name.c_str(),
              shape_str(t->shape).c_str(), shape_str(spec.shape).c_str());
  if (spec.role == TensorRole::Router || spec.role == TensorRole::Norm) {
    ERNIE_CHECK(t->type == DType::F32 || t->type == DType::F16 || t->type == DType::BF16,
                ERNIE_E_INVALID_MODEL, "packed model: tensor '%s' must be stored as f32, f16 or bf16",
                spec.name.c_str());
  }
  ERNIE_CHECK(dtype_row_group(t->type) == 1 || spec.role != TensorRole::Embedding, ERNIE_E_INVALID_MODEL,
              "packed model: tensor '%s' is stored as %s, whose rows cannot be read one at a time",
              spec.name.c_str(), dtype_name(t->type));
  TensorView v;
  v.type = t->type;
  const auto& s = t->shape;
  v.cols = s.back();
  v.rows = s.size() >= 2 ? s[s.size() - 2] : 1;
  v.n_mats = s.size() == 3 ? s[0] : 1;
  v.row_bytes = dtype_row_bytes(t->type, static_cast<uint64_t>(v.cols));
  ERNIE_CHECK(v.row_bytes * static_cast<uint64_t>(v.rows) * static_cast<uint64_t>(v.n_mats) == t->size,
              ERNIE_E_INVALID_MODEL, "packed model: tensor '%s' has an inconsistent size", spec.name.c_str());
  v.data = static_cast<const uint8_t*>(file.data(*t));
  return v;
}

}  // namespace

ModelWeights bind_weights(const PackedFile& file, const ModelConfig& config) {
  ModelWeights w;
  w.config = config;
  w.layers.resize(static_cast<size_t>(config.num_layers));
  for (const TensorSpec& spec : expected_tensors(config)) {
    TensorView v = view_of(file, spec);
    uint64_t n = 1;
    for (int64_t d : spec.shape) n *= static_cast<uint64_t>(d);
    w.n_params += n;
    w.quantized = w.quantized || dtype_is_quantized(v.type);
    w.bytes += v.row_bytes * static_cast<uint64_t>(v.rows) * static_cast<uint64_t>(v.n_mats);

    const std::string& name = spec.name;
    if (name == "token_embd") { w.token_embd = v; continue; }
    if (name == "output_norm") { w.output_norm = v; continue; }
    if (name == "output") { w.output = v; continue; }
    // "blk.N.suffix"
    size_t dot = name.find('.', 4);
    auto layer = static_cast<size_t>(std::stoll(name.substr(4, dot - 4)));
    std::string suffix = name.substr(dot + 1);
    LayerWeights& L = w.layers[layer];
    L.is_moe = config.layer_is_moe(static_cast<int64_t>(layer));
    TensorView* slot = suffix == "attn_norm"         ? &L.attn_norm
                       : suffix == "attn_q"          ? &L.attn_q
                       : suffix == "attn_k"          ? &L.attn_k
                       : suffix == "attn_v"          ? &L.attn_v
                       : suffix == "attn_o"          ? &L.attn_o
                       : suffix == "ffn_norm"        ? &L.ffn_norm
                       : suffix == "ffn_gate"        ? &L.ffn_gate
                       : suffix == "ffn_up"          ? &L.ffn_up
                       : suffix == "ffn_down"        ? &L.ffn_down
                       : suffix == "moe_router"      ? &L.router
                       : suffix == "moe_router_bias" ? &L.router_bias
                       : suffix == "moe_gate_exps"   ? &L.gate_exps
                       : suffix == "moe_up_exps"     ? &L.up_exps
                       : suffix == "moe_down_exps"   ? &L.down_exps
                       : suffix == "moe_gate_shexp"  ? &L.gate_shexp
                       : suffix == "moe_up_shexp"    ? &L.up_shexp
                       : suffix == "moe_down_shexp"  ? &L.down_shexp
                                                     : nullptr;
    ERNIE_CHECK(slot, ERNIE_E_INTERNAL, "unhandled tensor name '%s'", name.c_str());
    *slot = v;
  }
  if (config.tie_word_embeddings) w.output = w.token_embd;
  return w;
}

}  // namespace ernie
