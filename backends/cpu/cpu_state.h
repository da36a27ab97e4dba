// The CPU backend's per-session state: the KV cache and every buffer the
// forward pass writes, sized once for n_batch tokens so that no token
// allocates.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/moe_router.h"
#include "backends/cpu/ops/act_a8.h"
#include "backends/cpu/ops/attention.h"
#include "backends/cpu/ops/matmul.h"

namespace ernie {

// An array whose elements are not initialized (no zero-fill of hundreds of
// megabytes at session creation).
template <class T>
class Buffer {
 public:
  void resize(size_t n) {
    data_ = std::make_unique_for_overwrite<T[]>(n);
    size_ = n;
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  std::unique_ptr<T[]> data_;
  size_t size_ = 0;
};

class CpuSessionState final : public SessionState {
 public:
  CpuSessionState(const ModelConfig& c, int64_t n_ctx, int64_t n_batch, KvType kv);
  // The bytes a state of these sizes allocates (for memory estimates).
  static uint64_t bytes_for(const ModelConfig& c, int64_t n_ctx, int64_t n_batch, KvType kv);

  int64_t n_ctx() const override { return n_ctx_; }
  int64_t n_batch() const override { return n_batch_; }
  uint64_t kv_bytes(int64_t n_tokens) const override;
  void save_kv(int64_t n_tokens, uint8_t* out) const override;
  void load_kv(int64_t n_tokens, const uint8_t* in) override;

  // Scratch that depends on the thread count: grown on the first call with a
  // new count, then reused.
  float* thread_scratch(size_t floats) {
    if (scratch.size() < floats) scratch.resize(floats);
    return scratch.data();
  }

  KvLayer kv_layer(int64_t layer) const;
  // Stores rows [pos0, pos0 + n) of layer's keys and values from f32.
  void store_kv(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v);

  // [layer][pos][kv_dim], f32 or f16 (one pair is empty).
  // The cache and the big activation buffers are not zero-filled: pages are
  // touched (and count in RSS) only as positions and rows are used.
  Buffer<float> k32, v32;
  Buffer<uint16_t> k16, v16;
  // Activations, [n_batch][width]: H for x and h; q_dim for q and attn;
  // kv_dim for the new keys and values before they enter the cache.
  Buffer<float> x, h, q, attn, k_new, v_new;
  // SwiGLU outputs: dense rows [n_batch][I], or each expert's rows then the
  // shared experts' rows [n_batch * (k + 1)][max(Ie, Is)].
  Buffer<float> inter;
  Buffer<float> moe_out;     // [token * k + rank][H]: each chosen expert's output
  Buffer<float> shared_out;  // [token][H]
  ActA8 a8;                       // the A8 rows of the current product's input
  std::vector<float> router_logits, probs, scratch;
  std::vector<ExpertChoice> choices;  // [token][k]
  // Tokens of each expert, grouped: expert e owns [offset[e], offset[e+1]).
  std::vector<MatJob> jobs;  // one per expert plus the shared experts
  std::vector<int32_t> expert_token, expert_slot, expert_offset, expert_fill;

 private:
  size_t layer_offset(int64_t layer) const { return static_cast<size_t>(layer * n_ctx_ * kv_dim_); }
  int64_t n_ctx_, n_batch_, n_layers_, kv_dim_;
  KvType kv_;
};

}  // namespace ernie
