// A model's weights on one CUDA device: every matrix uploaded once, in its
// packed bytes (the kernels decode them in registers); norm weights and the
// routers as f32. Shared read-only by all sessions of the model.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cuda/kernels/kernels.h"
#include "model/weights.h"

namespace ernie::cuda {

// One device allocation, freed with the owner.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(uint64_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr; o.bytes_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  template <class T>
  T* as() const { return static_cast<T*>(p_); }
  uint64_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  uint64_t bytes_ = 0;
};

struct DeviceLayer {
  bool is_moe = false;
  DevMatrix q, k, v, o;
  DevMatrix gate, up, down;                    // dense layers
  DevMatrix gate_exps, up_exps, down_exps;     // MoE: stacked experts
  DevMatrix gate_shexp, up_shexp, down_shexp;  // MoE: shared experts (rows == 0 when absent)
  DevMatrix router;                            // f32 [E][H]
  const float* router_bias = nullptr;          // f32 [E], or nullptr
  const float* attn_norm = nullptr;
  const float* ffn_norm = nullptr;
};

class DeviceModel {
 public:
  // Uploads `w` to `device` (the current device when called). Throws
  // ERNIE_E_OUT_OF_MEMORY when the weights do not fit, ERNIE_E_BACKEND on
  // any other CUDA error.
  DeviceModel(const ModelWeights& w, int device);

  const ModelConfig& config() const { return config_; }
  int device() const { return device_; }
  bool quantized() const { return quantized_; }
  uint64_t weight_bytes() const { return weight_bytes_; }

  DevMatrix token_embd, output;
  const float* output_norm = nullptr;
  std::vector<DeviceLayer> layers;

 private:
  DevMatrix upload(const TensorView& v);
  const float* upload_f32(const TensorView& v);  // any float type, converted on the device

  ModelConfig config_;
  int device_ = 0;
  bool quantized_ = false;
  uint64_t weight_bytes_ = 0;
  std::vector<DeviceBuffer> buffers_;
};

bool is_quantized(DType t);

}  // namespace ernie::cuda
