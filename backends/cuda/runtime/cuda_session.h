// The CUDA backend's per-session state: its own stream and cuBLAS handle, the
// f16 KV cache and every activation buffer on the device (sized once for
// n_batch tokens, so no token allocates), pinned host staging for the
// position, token ids and logits, and the CUDA graph of a decode step.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/cuda/runtime/device_model.h"

namespace ernie::cuda {

// Host memory the device can copy from and to asynchronously.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(uint64_t bytes);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(p_); }

 private:
  void* p_ = nullptr;
};

// Attention partials are sized for this many tokens; prefill runs attention
// in sub-batches of it (the partials grow with the context, not the batch).
constexpr int64_t kAttentionTokens = 16;

// Device buffer sizes of one session (also what state_bytes reports).
struct SessionSizes {
  SessionSizes(const ModelConfig& c, int64_t n_ctx, int64_t n_batch);
  int64_t n_ctx, n_batch;
  int64_t inter_width;   // max(intermediate, moe_intermediate, shared intermediate)
  int64_t moe_rows;      // n_batch * k (routed assignments)
  int64_t attn_partial;  // floats of attention partials
  uint64_t kv_bytes;     // both caches, all layers
  uint64_t act_bytes;    // activations, logits and scratch
  uint64_t dequant_floats;  // f32 weight chunk for cuBLAS prefill
  uint64_t total() const { return kv_bytes + act_bytes; }
};

class CudaSessionState final : public SessionState {
 public:
  CudaSessionState(const DeviceModel& model, int64_t n_ctx, int64_t n_batch);
  ~CudaSessionState() override;

  int64_t n_ctx() const override { return sizes.n_ctx; }
  int64_t n_batch() const override { return sizes.n_batch; }
  uint64_t kv_bytes(int64_t n_tokens) const override;
  void save_kv(int64_t n_tokens, uint8_t* out) const override;
  void load_kv(int64_t n_tokens, const uint8_t* in) override;

  uint16_t* k_cache(int64_t layer) const { return k16.as<uint16_t>() + layer * sizes.n_ctx * kv_dim; }
  uint16_t* v_cache(int64_t layer) const { return v16.as<uint16_t>() + layer * sizes.n_ctx * kv_dim; }

  const DeviceModel& model;
  SessionSizes sizes;
  int64_t kv_dim;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;

  DeviceBuffer k16, v16;           // [layer][n_ctx][kv_dim] f16
  DeviceBuffer x, h, q, attn, k_new, v_new;  // [n_batch][width] f32
  DeviceBuffer inter, up_rows;     // SwiGLU gate (then result) and up rows, [moe_rows or n_batch][inter_width]
  DeviceBuffer gathered;           // prefill MoE: one expert's input rows [n_batch][H]
  DeviceBuffer moe_out;            // [n_batch * k][H]
  DeviceBuffer shared_inter, shared_out;  // [n_batch][shared I], [n_batch][H]
  DeviceBuffer router_logits;      // [n_batch][E]
  DeviceBuffer expert, weight;     // [n_batch * k] int32 / f32
  DeviceBuffer assign_token;       // [n_batch * k] int32: a / k (the input row of assignment a)
  DeviceBuffer group_token, group_slot;  // prefill MoE: tokens and slots grouped by expert
  DeviceBuffer attn_partial;       // attention partials
  DeviceBuffer dequant;            // prefill: a chunk of weight rows in f32
  DeviceBuffer logits;             // [n_batch][vocab]
  DeviceBuffer ids, pos0;          // [n_batch] int32, [1] int32

  PinnedBuffer host_ids, host_pos0, host_expert, host_groups;

  // The decode step (one token) as a CUDA graph, captured on first use.
  cudaGraphExec_t decode_graph = nullptr;
  bool decode_graph_failed = false;

 private:
  void release();  // the graph, the handle and the stream
};

}  // namespace ernie::cuda
