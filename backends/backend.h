// The one interface every compute backend implements: the CPU backend built
// into the core, and plugins loaded at run time (the CUDA backend; their entry
// point is backends/plugin_abi.h). The core binds weights, picks a backend at
// run time (lib/registry/registry.h), and drives it through these calls; a
// backend owns how the math is done.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "model/weights.h"

namespace ernie {

class ThreadPool;

// Per-session backend state: the KV cache and the scratch buffers of one
// session. Created by ModelRuntime::create_state.
class SessionState {
 public:
  virtual ~SessionState() = default;
  virtual int64_t n_ctx() const = 0;
  virtual int64_t n_batch() const = 0;
  // The cache rows of positions [0, n_tokens) in a backend-independent
  // layout: for each layer, keys then values, [n_tokens][kv_dim] f32.
  virtual uint64_t kv_bytes(int64_t n_tokens) const = 0;
  virtual void save_kv(int64_t n_tokens, uint8_t* out) const = 0;
  virtual void load_kv(int64_t n_tokens, const uint8_t* in) = 0;
};

struct ForwardRequest {
  const int32_t* tokens = nullptr;  // ids already checked to be < vocab_size
  int64_t n_tokens = 0;             // 1..n_batch
  int64_t pos0 = 0;                 // position of tokens[0]; pos0 + n_tokens <= n_ctx
  float* logits = nullptr;          // [n_tokens or 1, vocab] output
  bool all_logits = false;          // false: only the last token's row
  ThreadPool* pool = nullptr;       // the session's threads
};

// A model prepared for one backend (weights bound or uploaded).
class ModelRuntime {
 public:
  virtual ~ModelRuntime() = default;
  // Throws ERNIE_E_OUT_OF_MEMORY if the buffers cannot be allocated.
  virtual std::unique_ptr<SessionState> create_state(int64_t n_ctx, int64_t n_batch, KvType kv) const = 0;
  virtual uint64_t state_bytes(int64_t n_ctx, int64_t n_batch, KvType kv) const = 0;
  // Runs the tokens through the model, appending their keys and values to
  // the state's cache at positions [pos0, pos0 + n_tokens).
  virtual void forward(SessionState& state, const ForwardRequest& request) const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual std::unique_ptr<ModelRuntime> prepare(const ModelWeights& weights) const = 0;
};

std::unique_ptr<Backend> make_cpu_backend();

// One device a backend can run on, as `ernie backends` lists it.
struct BackendDevice {
  std::string name;
  uint64_t memory_bytes = 0;  // total
  uint64_t free_bytes = 0;    // free (CPU: available RAM) when listed
  std::string compute_capability;  // CUDA "8.9"; CPU: the kernels' instruction set
};

// The CPU as the CPU backend sees it: model name, RAM, kernel ISA.
BackendDevice describe_cpu_device();

// Choosing among the CPU backend and the plugins (CUDA) happens in
// lib/registry/registry.h.

}  // namespace ernie
