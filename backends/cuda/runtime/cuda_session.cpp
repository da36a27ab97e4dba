#include "backends/cuda/runtime/cuda_session.h"

#include <cuda_fp16.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "backends/cuda/runtime/cublas_api.h"
#include "util/error.h"

namespace ernie::cuda {

namespace {

// Prefill dequantizes weights in chunks of at most this many f32 values
// (64 MiB) before each cuBLAS product.
constexpr uint64_t kDequantChunkFloats = uint64_t{16} << 20;

}  // namespace

PinnedBuffer::PinnedBuffer(uint64_t bytes) {
  if (bytes == 0) return;
  const cudaError_t e = cudaMallocHost(&p_, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    p_ = nullptr;
    throw Error(ERNIE_E_OUT_OF_MEMORY, "CUDA: cannot allocate " + std::to_string(bytes >> 20) + " MiB of pinned memory");
  }
  check(e, "cudaMallocHost");
}

PinnedBuffer::~PinnedBuffer() {
  if (p_) cudaFreeHost(p_);
}

SessionSizes::SessionSizes(const ModelConfig& c, int64_t ctx, int64_t batch)
    : n_ctx(ctx), n_batch(batch) {
  const int64_t H = c.hidden_size, K = c.is_moe ? c.moe_k : 0;
  inter_width = std::max({c.intermediate_size, c.is_moe ? c.moe_intermediate_size : 0,
                          c.is_moe ? c.shared_intermediate() : 0, int64_t{1}});
  moe_rows = n_batch * std::max<int64_t>(K, 1);
  const AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim};
  attn_partial = attention_partial_floats(std::min(n_batch, kAttentionTokens), n_ctx, shape);
  kv_bytes = 2ull * static_cast<uint64_t>(c.num_layers * n_ctx * c.kv_dim()) * 2;
  dequant_floats = kDequantChunkFloats;
  const uint64_t rows = static_cast<uint64_t>(std::max(moe_rows, n_batch));
  uint64_t floats = 0;
  floats += 3ull * n_batch * H;                               // x, h, gathered
  floats += 2ull * n_batch * c.q_dim() + 2ull * n_batch * c.kv_dim();  // q, attn, k_new, v_new
  floats += 2ull * rows * inter_width;                        // inter, up_rows
  floats += static_cast<uint64_t>(moe_rows) * H;              // moe_out
  floats += static_cast<uint64_t>(n_batch) * (c.is_moe ? c.shared_intermediate() : 0) + n_batch * H;  // shared
  floats += static_cast<uint64_t>(n_batch) * (c.is_moe ? c.moe_num_experts : 0);  // router logits
  floats += 5ull * moe_rows;                                  // expert, weight, assign_token, groups
  floats += static_cast<uint64_t>(attn_partial) + dequant_floats;
  floats += static_cast<uint64_t>(n_batch) * c.vocab_size;    // logits
  floats += static_cast<uint64_t>(n_batch) + 1 + n_batch / kAttentionTokens + 1;  // ids, positions
  act_bytes = floats * 4;
}

CudaSessionState::CudaSessionState(const DeviceModel& m, int64_t n_ctx, int64_t n_batch)
    : model(m), sizes(m.config(), n_ctx, n_batch), kv_dim(m.config().kv_dim()) {
  const ModelConfig& c = m.config();
  const CublasApi& blas = cublas_api();
  check(cudaSetDevice(m.device()), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  if (blas.create(&cublas) != CUBLAS_STATUS_SUCCESS) {
    cudaStreamDestroy(stream);
    throw Error(ERNIE_E_BACKEND, "cuBLAS: cannot create a handle");
  }
  blas.set_stream(cublas, stream);
  // Quantized weights carry far more error than TF32 rounding; float
  // weights keep full f32 products (the golden references are exact).
  blas.set_math_mode(cublas, m.quantized() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);

  // The stream and the handle are not members with destructors: a failed
  // allocation below must release them before the exception leaves.
  try {
    const auto f = [](uint64_t n) { return DeviceBuffer(n * 4); };
    const int64_t H = c.hidden_size, B = n_batch;
    const uint64_t rows = static_cast<uint64_t>(std::max(sizes.moe_rows, B));
    const uint64_t kv_per_cache = static_cast<uint64_t>(c.num_layers * n_ctx * kv_dim) * 2;
    k16 = DeviceBuffer(kv_per_cache);
    v16 = DeviceBuffer(kv_per_cache);
    x = f(B * H);
    h = f(B * H);
    gathered = f(B * H);
    q = f(B * c.q_dim());
    attn = f(B * c.q_dim());
    k_new = f(B * kv_dim);
    v_new = f(B * kv_dim);
    inter = f(rows * sizes.inter_width);
    up_rows = f(rows * sizes.inter_width);
    if (c.is_moe) {
      moe_out = f(sizes.moe_rows * H);
      shared_inter = f(B * std::max<int64_t>(c.shared_intermediate(), 1));
      shared_out = f(B * H);
      router_logits = f(B * c.moe_num_experts);
      expert = f(sizes.moe_rows);
      weight = f(sizes.moe_rows);
      assign_token = f(sizes.moe_rows);
      group_token = f(sizes.moe_rows);
      group_slot = f(sizes.moe_rows);
      host_expert = PinnedBuffer(sizes.moe_rows * 4);
      host_groups = PinnedBuffer(2 * sizes.moe_rows * 4);
      // The input row of routed assignment a (token-major, k per token).
      std::vector<int32_t> tok(static_cast<size_t>(sizes.moe_rows));
      for (size_t a = 0; a < tok.size(); ++a) tok[a] = static_cast<int32_t>(a / static_cast<size_t>(c.moe_k));
      check(cudaMemcpy(assign_token.as<void>(), tok.data(), tok.size() * 4, cudaMemcpyHostToDevice), "upload");
    }
    attn_partial = f(static_cast<uint64_t>(sizes.attn_partial));
    dequant = f(sizes.dequant_floats);
    logits = f(B * c.vocab_size);
    ids = f(B);
    const int64_t n_pos = B / kAttentionTokens + 2;
    pos0 = f(n_pos);
    host_ids = PinnedBuffer(B * 4);
    host_pos0 = PinnedBuffer(n_pos * 4);
  } catch (...) {
    release();
    throw;
  }
}

CudaSessionState::~CudaSessionState() { release(); }

void CudaSessionState::release() {
  cudaSetDevice(model.device());
  if (decode_graph) cudaGraphExecDestroy(decode_graph);
  if (stream) cudaStreamSynchronize(stream);
  if (cublas) cublas_api().destroy(cublas);
  if (stream) cudaStreamDestroy(stream);
  decode_graph = nullptr;
  cublas = nullptr;
  stream = nullptr;
}

uint64_t CudaSessionState::kv_bytes(int64_t n_tokens) const {
  return 2ull * static_cast<uint64_t>(model.config().num_layers * n_tokens * kv_dim) * 4;
}

// Backend-independent layout: per layer, keys then values, [n_tokens][kv_dim] f32.
void CudaSessionState::save_kv(int64_t n_tokens, uint8_t* out) const {
  check(cudaSetDevice(model.device()), "cudaSetDevice");
  check(cudaStreamSynchronize(stream), "save_kv");
  const uint64_t n = static_cast<uint64_t>(n_tokens * kv_dim);
  std::vector<__half_raw> rows(n);
  auto* dst = reinterpret_cast<float*>(out);
  for (int64_t l = 0; l < model.config().num_layers; ++l) {
    for (const uint16_t* cache : {k_cache(l), v_cache(l)}) {
      check(cudaMemcpy(rows.data(), cache, n * 2, cudaMemcpyDeviceToHost), "save_kv");
      for (uint64_t i = 0; i < n; ++i) dst[i] = __half2float(__half(rows[i]));
      dst += n;
    }
  }
}

void CudaSessionState::load_kv(int64_t n_tokens, const uint8_t* in) {
  check(cudaSetDevice(model.device()), "cudaSetDevice");
  check(cudaStreamSynchronize(stream), "load_kv");
  const uint64_t n = static_cast<uint64_t>(n_tokens * kv_dim);
  std::vector<__half_raw> rows(n);
  const auto* src = reinterpret_cast<const float*>(in);
  for (int64_t l = 0; l < model.config().num_layers; ++l) {
    for (uint16_t* cache : {k_cache(l), v_cache(l)}) {
      for (uint64_t i = 0; i < n; ++i) rows[i] = static_cast<__half_raw>(__float2half_rn(src[i]));
      check(cudaMemcpy(cache, rows.data(), n * 2, cudaMemcpyHostToDevice), "load_kv");
      src += n;
    }
  }
}

}  // namespace ernie::cuda
