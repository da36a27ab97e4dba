// The CPU backend's per-session state: the KV cache and every buffer the
// forward pass writes, sized once for n_batch tokens so that no token
// allocates.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/moe_router.h"
#include "backends/cpu/ops/act_a8.h"
#include "backends/cpu/ops/attention.h"
#include "backends/cpu/ops/matmul.h"
#include "platform/platform.h"

namespace ernie {

// An array whose elements are not initialized (no zero-fill of hundreds of
// megabytes at session creation). Arrays of 2 MB and more (the KV cache
// above all, read whole every token) live in huge-page memory
// (alloc_streamed): with 4 KB pages, long-context attention spent more time
// on TLB misses and page-bounded prefetching than on arithmetic.
template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(); }

  // Throws std::bad_alloc when the memory cannot be had.
  void resize(size_t n) {
    release();
    const uint64_t bytes = static_cast<uint64_t>(n) * sizeof(T);
    if (bytes >= kStreamedBytes) {
      data_ = static_cast<T*>(alloc_streamed(bytes));
      if (data_ == nullptr) throw std::bad_alloc();
      streamed_ = true;
    } else if (n > 0) {
      data_ = new T[n];
    }
    size_ = n;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  static constexpr uint64_t kStreamedBytes = uint64_t{2} << 20;
  void release() {
    if (streamed_) {
      free_streamed(data_, static_cast<uint64_t>(size_) * sizeof(T));
    } else {
      delete[] data_;
    }
    data_ = nullptr;
    size_ = 0;
    streamed_ = false;
  }
  T* data_ = nullptr;
  size_t size_ = 0;
  bool streamed_ = false;
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

  // [layer][kv head][pos][head_dim], f32 or f16 (one pair is empty): a kv
  // head's positions adjacent, so attention streams each head's rows.
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
  // Element of (position, kv head) in a layer's cache.
  size_t kv_at(int64_t pos, int64_t head) const {
    return static_cast<size_t>((head * n_ctx_ + pos) * head_dim_);
  }
  int64_t n_ctx_, n_batch_, n_layers_, kv_dim_, head_dim_, n_kv_heads_;
  KvType kv_;
};

}  // namespace ernie
