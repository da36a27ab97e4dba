#include "backends/cpu/cpu_state.h"

#include <algorithm>

#include "backends/cpu/ops/attention.h"

namespace ernie {
namespace {

struct Sizes {
  int64_t k, rows, inter_values, a8_values;
};

// The SwiGLU buffer holds a dense layer's [n_batch][I] or a MoE layer's
// [n_batch * (k + 1)][max(Ie, Is)]; activation quantization any product input.
Sizes sizes(const ModelConfig& c, int64_t n_batch) {
  Sizes s;
  s.k = c.is_moe ? c.moe_k : 0;
  s.rows = n_batch * (s.k + 1);
  const bool has_dense = c.n_moe_layers() < c.num_layers;
  const int64_t dense = has_dense ? n_batch * c.intermediate_size : 0;
  const int64_t moe = c.is_moe ? s.rows * std::max(c.moe_intermediate_size, c.shared_intermediate()) : 0;
  s.inter_values = std::max(dense, moe);
  s.a8_values = std::max(s.inter_values, n_batch * std::max(c.hidden_size, c.q_dim()));
  return s;
}

}  // namespace

CpuSessionState::CpuSessionState(const ModelConfig& c, int64_t n_ctx, int64_t n_batch, KvType kv)
    : n_ctx_(n_ctx),
      n_batch_(n_batch),
      n_layers_(c.num_layers),
      kv_dim_(c.kv_dim()),
      head_dim_(c.head_dim),
      n_kv_heads_(c.n_kv_heads),
      kv_(kv) {
  const Sizes z = sizes(c, n_batch);
  const int64_t H = c.hidden_size, E = std::max<int64_t>(c.moe_num_experts, 1);
  const auto cache = static_cast<size_t>(c.num_layers * n_ctx * kv_dim_);
  if (kv == KvType::F16) {
    k16.resize(cache);
    v16.resize(cache);
  } else {
    k32.resize(cache);
    v32.resize(cache);
  }
  x.resize(static_cast<size_t>(n_batch * H));
  h.resize(x.size());
  q.resize(static_cast<size_t>(n_batch * c.q_dim()));
  attn.resize(q.size());
  k_new.resize(static_cast<size_t>(n_batch * kv_dim_));
  v_new.resize(k_new.size());
  inter.resize(static_cast<size_t>(z.inter_values));
  moe_out.resize(static_cast<size_t>(n_batch * std::max<int64_t>(z.k, 1) * H));
  shared_out.resize(x.size());
  a8.reserve(z.rows, z.a8_values);
  router_logits.resize(static_cast<size_t>(n_batch * E));
  probs.resize(static_cast<size_t>(E));
  choices.resize(static_cast<size_t>(n_batch * std::max<int64_t>(z.k, 1)));
  expert_token.resize(choices.size());
  expert_slot.resize(choices.size());
  expert_offset.resize(static_cast<size_t>(E + 1));
  expert_fill.resize(static_cast<size_t>(E));
  jobs.resize(static_cast<size_t>(E + 1));
}

uint64_t CpuSessionState::bytes_for(const ModelConfig& c, int64_t n_ctx, int64_t n_batch, KvType kv_type) {
  const Sizes z = sizes(c, n_batch);
  const uint64_t kv = 2ull * static_cast<uint64_t>(c.num_layers * n_ctx * c.kv_dim()) * (kv_type == KvType::F16 ? 2 : 4);
  const uint64_t f = sizeof(float);
  const uint64_t act = static_cast<uint64_t>(n_batch) *
                       static_cast<uint64_t>((3 + std::max<int64_t>(z.k, 1)) * c.hidden_size + 2 * c.q_dim() +
                                             2 * c.kv_dim()) * f;
  const uint64_t inter = static_cast<uint64_t>(z.inter_values) * f;
  const uint64_t a8 = ActA8::bytes_for(z.rows, z.a8_values);
  return kv + act + inter + a8;
}

KvLayer CpuSessionState::kv_layer(int64_t layer) const {
  const size_t at = layer_offset(layer);
  if (kv_ == KvType::F16) return {&k16[at], &v16[at], true, head_dim_, n_ctx_ * head_dim_};
  return {&k32[at], &v32[at], false, head_dim_, n_ctx_ * head_dim_};
}

void CpuSessionState::store_kv(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v) {
  const size_t base = layer_offset(layer);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t h = 0; h < n_kv_heads_; ++h) {
      const size_t at = base + kv_at(pos0 + t, h);
      const float* kr = k + t * kv_dim_ + h * head_dim_;
      const float* vr = v + t * kv_dim_ + h * head_dim_;
      if (kv_ == KvType::F16) {
        f32_to_f16_row(kr, &k16[at], head_dim_);
        f32_to_f16_row(vr, &v16[at], head_dim_);
      } else {
        std::copy(kr, kr + head_dim_, &k32[at]);
        std::copy(vr, vr + head_dim_, &v32[at]);
      }
    }
  }
}

// The blob layout is backend-independent f32 (backend.h); f16 -> f32 -> f16
// is exact, so a restored session continues bit-identically.
uint64_t CpuSessionState::kv_bytes(int64_t n_tokens) const {
  return 2ull * static_cast<uint64_t>(n_layers_ * n_tokens * kv_dim_) * sizeof(float);
}

void CpuSessionState::save_kv(int64_t n_tokens, uint8_t* out) const {
  const int64_t n = n_tokens * kv_dim_;
  auto* f = reinterpret_cast<float*>(out);
  for (int64_t l = 0; l < n_layers_; ++l) {
    const size_t base = layer_offset(l);
    float* k = f + (2 * l) * n;
    float* v = f + (2 * l + 1) * n;
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t h = 0; h < n_kv_heads_; ++h) {
        const size_t at = base + kv_at(t, h);
        const int64_t to = t * kv_dim_ + h * head_dim_;
        if (kv_ == KvType::F16) {
          f16_to_f32_row(&k16[at], k + to, head_dim_);
          f16_to_f32_row(&v16[at], v + to, head_dim_);
        } else {
          std::copy(&k32[at], &k32[at] + head_dim_, k + to);
          std::copy(&v32[at], &v32[at] + head_dim_, v + to);
        }
      }
    }
  }
}

void CpuSessionState::load_kv(int64_t n_tokens, const uint8_t* in) {
  const auto* f = reinterpret_cast<const float*>(in);
  const int64_t n = n_tokens * kv_dim_;
  for (int64_t l = 0; l < n_layers_; ++l) store_kv(l, 0, n_tokens, f + (2 * l) * n, f + (2 * l + 1) * n);
}

}  // namespace ernie
