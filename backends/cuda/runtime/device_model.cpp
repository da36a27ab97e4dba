#include "backends/cuda/runtime/device_model.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <vector>

#include "quant/q4x8_layout.h"
#include "quant/blocks.h"
#include "util/error.h"

namespace ernie::cuda {

bool is_quantized(DType t) { return t == DType::Q8 || t == DType::Q6 || t == DType::Q4 || t == DType::Q2; }

DeviceBuffer::DeviceBuffer(uint64_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  const cudaError_t e = cudaMalloc(&p_, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    p_ = nullptr;
    throw Error(ERNIE_E_OUT_OF_MEMORY,
                "CUDA: cannot allocate " + std::to_string(bytes >> 20) + " MiB of device memory");
  }
  check(e, "cudaMalloc");
}

DeviceBuffer::~DeviceBuffer() {
  if (p_) cudaFree(p_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (p_) cudaFree(p_);
    p_ = o.p_;
    bytes_ = o.bytes_;
    o.p_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

DeviceModel::DeviceModel(const ModelWeights& w, int device) : config_(w.config), device_(device) {
  check(cudaSetDevice(device), "cudaSetDevice");
  // Refuse early (and cheaply) when the weights alone cannot fit: "auto"
  // then falls back to the CPU with this message.
  size_t free_b = 0, total_b = 0;
  check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  if (w.bytes > free_b) {
    throw Error(ERNIE_E_OUT_OF_MEMORY, "the model's " + std::to_string(w.bytes >> 20) +
                                           " MiB of weights do not fit in the device's " +
                                           std::to_string(free_b >> 20) + " MiB of free memory");
  }
  token_embd = upload(w.token_embd);
  // A tied head reads the embedding's upload.
  output = w.output.data == w.token_embd.data ? token_embd : upload(w.output);
  output_norm = upload_f32(w.output_norm);
  layers.resize(w.layers.size());
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& L = w.layers[i];
    DeviceLayer& d = layers[i];
    d.is_moe = L.is_moe;
    d.attn_norm = upload_f32(L.attn_norm);
    d.ffn_norm = upload_f32(L.ffn_norm);
    d.q = upload(L.attn_q);
    d.k = upload(L.attn_k);
    d.v = upload(L.attn_v);
    d.o = upload(L.attn_o);
    if (L.is_moe) {
      const float* router = upload_f32(L.router);
      d.router = {DType::F32, 1, L.router.rows, L.router.cols, static_cast<uint64_t>(L.router.cols) * 4,
                  reinterpret_cast<const uint8_t*>(router)};
      d.router_bias = L.router_bias.empty() ? nullptr : upload_f32(L.router_bias);
      d.gate_exps = upload(L.gate_exps);
      d.up_exps = upload(L.up_exps);
      d.down_exps = upload(L.down_exps);
      if (!L.gate_shexp.empty()) {
        d.gate_shexp = upload(L.gate_shexp);
        d.up_shexp = upload(L.up_shexp);
        d.down_shexp = upload(L.down_shexp);
      }
    } else {
      d.gate = upload(L.ffn_gate);
      d.up = upload(L.ffn_up);
      d.down = upload(L.ffn_down);
    }
  }
  check(cudaDeviceSynchronize(), "uploading the weights");
}

DevMatrix DeviceModel::upload(const TensorView& v) {
  const uint64_t bytes = static_cast<uint64_t>(v.n_mats) * static_cast<uint64_t>(v.rows) * v.row_bytes;
  DeviceBuffer buf(bytes);
  DType type = v.type;
  if (type == DType::Q4X8) {
    // The device kernels read q4 rows: the groups are taken apart on the way
    // (same bytes per row), a few MB at a time.
    const uint64_t group_bytes = quant::kQ4X8Rows * v.row_bytes;
    const uint64_t per_copy = std::max<uint64_t>(1, (uint64_t{32} << 20) / group_bytes) * group_bytes;
    std::vector<uint8_t> rows(static_cast<size_t>(std::min(per_copy, bytes)));
    for (uint64_t at = 0; at < bytes; at += per_copy) {
      const uint64_t n = std::min(per_copy, bytes - at);
      for (uint64_t g = 0; g < n; g += group_bytes) {
        quant::deinterleave_q4x8(v.data + at + g, v.cols / quant::kSuperBlockValues, rows.data() + g);
      }
      check(cudaMemcpy(buf.as<uint8_t>() + at, rows.data(), n, cudaMemcpyHostToDevice), "uploading a weight");
    }
    type = DType::Q4;
  } else {
    check(cudaMemcpy(buf.as<void>(), v.data, bytes, cudaMemcpyHostToDevice), "uploading a weight");
  }
  quantized_ |= is_quantized(type);
  weight_bytes_ += bytes;
  DevMatrix m{type, v.n_mats, v.rows, v.cols, v.row_bytes, buf.as<uint8_t>()};
  buffers_.push_back(std::move(buf));
  return m;
}

const float* DeviceModel::upload_f32(const TensorView& v) {
  // Norms and the router are small: upload as stored, decode to f32 on the
  // device with the same kernel the products use (one decoder per type).
  const DevMatrix raw = upload(v);
  const int64_t rows = v.n_mats * v.rows;
  DeviceBuffer out(static_cast<uint64_t>(rows) * static_cast<uint64_t>(v.cols) * 4);
  DevMatrix flat = raw;
  flat.n_mats = 1;
  flat.rows = rows;
  dequantize_rows(flat, 0, 0, rows, out.as<float>(), nullptr);
  const float* p = out.as<float>();
  buffers_.push_back(std::move(out));
  return p;
}

}  // namespace ernie::cuda
