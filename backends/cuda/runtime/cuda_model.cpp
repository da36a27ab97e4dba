#include "backends/cuda/runtime/cuda_model.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "backends/cuda/runtime/cublas_api.h"
#include "backends/cuda/runtime/cuda_session.h"
#include "backends/cuda/runtime/device_model.h"
#include "backends/cuda/runtime/products.h"
#include "util/error.h"

namespace ernie::cuda {
namespace {

// Read once: the answer cannot change the graphs already captured.
bool graphs_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("ERNIE_CUDA_GRAPHS");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return enabled;
}

class CudaRuntime final : public ModelRuntime {
 public:
  CudaRuntime(const ModelWeights& w, int device) : m_(w, device), c_(m_.config()) {}

  uint64_t state_bytes(int64_t n_ctx, int64_t n_batch, KvType) const override {
    return SessionSizes(c_, n_ctx, n_batch).total();
  }

  // The cache is f16 whatever `kv` asks for: the GPU kernels read 16-bit
  // keys and values (docs/backends.md).
  std::unique_ptr<SessionState> create_state(int64_t n_ctx, int64_t n_batch, KvType) const override {
    try {
      return std::make_unique<CudaSessionState>(m_, n_ctx, n_batch);
    } catch (const std::bad_alloc&) {
      throw Error(ERNIE_E_OUT_OF_MEMORY, "cannot allocate the host side of a CUDA session");
    }
  }

  void forward(SessionState& base, const ForwardRequest& req) const override {
    auto& s = static_cast<CudaSessionState&>(base);
    check(cudaSetDevice(m_.device()), "cudaSetDevice");
    const int64_t T = req.n_tokens, V = c_.vocab_size;
    const int64_t first = req.all_logits ? 0 : T - 1, n_out = T - first;

    // Inputs: token ids and, per attention sub-batch, its first position.
    for (int64_t t = 0; t < T; ++t) s.host_ids.as<int32_t>()[t] = req.tokens[t];
    const int64_t n_pos = (T + kAttentionTokens - 1) / kAttentionTokens;
    for (int64_t j = 0; j < n_pos; ++j) s.host_pos0.as<int32_t>()[j] = static_cast<int32_t>(req.pos0 + j * kAttentionTokens);
    check(cudaMemcpyAsync(s.ids.as<void>(), s.host_ids.as<void>(), T * 4, cudaMemcpyHostToDevice, s.stream), "ids");
    check(cudaMemcpyAsync(s.pos0.as<void>(), s.host_pos0.as<void>(), n_pos * 4, cudaMemcpyHostToDevice, s.stream),
          "positions");

    if (T == 1 && graphs_enabled() && !s.decode_graph_failed) {
      if (!s.decode_graph) capture_decode(s);
    }
    if (T == 1 && s.decode_graph) {
      check(cudaGraphLaunch(s.decode_graph, s.stream), "cudaGraphLaunch");
    } else {
      body(s, T, first, n_out);
    }
    check(cudaMemcpyAsync(req.logits, s.logits.as<float>(), static_cast<size_t>(n_out * V) * 4,
                          cudaMemcpyDeviceToHost, s.stream),
          "logits");
    check(cudaStreamSynchronize(s.stream), "the forward pass");
  }

 private:
  // Records one decode step (inputs already on the device) as a graph; a
  // failure leaves the session on plain launches.
  void capture_decode(CudaSessionState& s) const {
    cudaGraph_t graph = nullptr;
    if (cudaStreamBeginCapture(s.stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
      cudaGetLastError();
      s.decode_graph_failed = true;
      return;
    }
    bool ok = true;
    try {
      body(s, 1, 0, 1);
    } catch (const Error&) {
      ok = false;
    }
    ok = cudaStreamEndCapture(s.stream, &graph) == cudaSuccess && ok;
    if (ok) ok = cudaGraphInstantiate(&s.decode_graph, graph, 0) == cudaSuccess;
    if (graph) cudaGraphDestroy(graph);
    if (!ok) {
      cudaGetLastError();
      s.decode_graph = nullptr;
      s.decode_graph_failed = true;
    }
  }

  // Embedding, layers and head for T tokens; logits rows [first, T) land in s.logits.
  void body(CudaSessionState& s, int64_t T, int64_t first, int64_t n_out) const {
    const int64_t H = c_.hidden_size;
    float* x = s.x.as<float>();
    gather_rows(m_.token_embd, s.ids.as<int32_t>(), T, x, s.stream);
    for (size_t li = 0; li < m_.layers.size(); ++li) {
      const DeviceLayer& L = m_.layers[li];
      attention_block(s, static_cast<int64_t>(li), T);
      rmsnorm(x, L.ffn_norm, static_cast<float>(c_.rms_norm_eps), s.h.as<float>(), T, H, s.stream);
      if (L.is_moe) {
        moe_ffn(s, L, T);
      } else {
        const int64_t Iw = s.sizes.inter_width;
        product_swiglu(s, L.gate, L.up, 0, s.h.as<float>(), H, T, s.inter.as<float>(), Iw, s.up_rows.as<float>());
        product(s, L.down, 0, s.inter.as<float>(), Iw, T, x, H, true);
      }
    }
    rmsnorm(x + first * H, m_.output_norm, static_cast<float>(c_.rms_norm_eps), s.h.as<float>(), n_out, H, s.stream);
    product(s, m_.output, 0, s.h.as<float>(), H, n_out, s.logits.as<float>(), c_.vocab_size, false);
  }

  void attention_block(CudaSessionState& s, int64_t li, int64_t T) const {
    const DeviceLayer& L = m_.layers[static_cast<size_t>(li)];
    const int64_t H = c_.hidden_size, qd = c_.q_dim(), kvd = c_.kv_dim();
    float* h = s.h.as<float>();
    rmsnorm(s.x.as<float>(), L.attn_norm, static_cast<float>(c_.rms_norm_eps), h, T, H, s.stream);
    product(s, L.q, 0, h, H, T, s.q.as<float>(), qd, false);
    product(s, L.k, 0, h, H, T, s.k_new.as<float>(), kvd, false);
    product(s, L.v, 0, h, H, T, s.v_new.as<float>(), kvd, false);
    const int32_t* pos0 = s.pos0.as<int32_t>();
    rope_interleaved(s.q.as<float>(), T, c_.n_heads, c_.head_dim, c_.rope_theta, pos0, s.stream);
    rope_interleaved(s.k_new.as<float>(), T, c_.n_kv_heads, c_.head_dim, c_.rope_theta, pos0, s.stream);
    store_kv_f16(s.k_new.as<float>(), s.v_new.as<float>(), s.k_cache(li), s.v_cache(li), T, kvd, pos0, s.stream);
    const AttentionShape shape{c_.n_heads, c_.n_kv_heads, c_.head_dim};
    // Sub-batches bound the partials' memory; sub-batch j starts at pos0[j].
    for (int64_t t0 = 0, j = 0; t0 < T; t0 += kAttentionTokens, ++j) {
      const int64_t n = std::min(kAttentionTokens, T - t0);
      attention(s.q.as<float>() + t0 * qd, s.k_cache(li), s.v_cache(li), pos0 + j, n, s.sizes.n_ctx, shape,
                s.attn.as<float>() + t0 * qd, s.attn_partial.as<float>(), s.stream);
    }
    product(s, L.o, 0, s.attn.as<float>(), qd, T, s.x.as<float>(), H, true);
  }

  void moe_ffn(CudaSessionState& s, const DeviceLayer& L, int64_t T) const {
    const int64_t H = c_.hidden_size, E = c_.moe_num_experts, K = c_.moe_k, Iw = s.sizes.inter_width;
    float* h = s.h.as<float>();
    product(s, L.router, 0, h, H, T, s.router_logits.as<float>(), E, false);
    route_topk(s.router_logits.as<float>(), L.router_bias, T, E, K, c_.moe_norm_min, s.expert.as<int32_t>(),
               s.weight.as<float>(), s.stream);
    if (T <= kMaxMatvecTokens) {
      // Decode: every assignment in two launches, experts read on the device.
      const int n_assign = static_cast<int>(T * K);
      matvec_experts_swiglu(L.gate_exps, L.up_exps, s.expert.as<int32_t>(), h, H, s.assign_token.as<int32_t>(),
                            n_assign, s.inter.as<float>(), Iw, s.stream);
      matvec_experts(L.down_exps, s.expert.as<int32_t>(), s.inter.as<float>(), Iw, n_assign, s.moe_out.as<float>(),
                     H, s.stream);
    } else {
      routed_prefill(s, L, T);
    }
    const bool shared = L.gate_shexp.rows > 0;
    if (shared) {
      const int64_t Is = L.gate_shexp.rows;
      product_swiglu(s, L.gate_shexp, L.up_shexp, 0, h, H, T, s.shared_inter.as<float>(), Is, s.up_rows.as<float>());
      product(s, L.down_shexp, 0, s.shared_inter.as<float>(), Is, T, s.shared_out.as<float>(), H, false);
    }
    moe_combine(s.x.as<float>(), s.moe_out.as<float>(), s.weight.as<float>(),
                shared ? s.shared_out.as<float>() : nullptr, T, K, H, s.stream);
  }

  // Prefill: the choices come to the host, tokens are grouped by expert, and
  // each expert with tokens runs as products over its gathered rows (cuBLAS
  // above kMaxMatvecTokens), its outputs scattered to their (token, rank) rows.
  void routed_prefill(CudaSessionState& s, const DeviceLayer& L, int64_t T) const {
    const int64_t H = c_.hidden_size, E = c_.moe_num_experts, K = c_.moe_k, Iw = s.sizes.inter_width;
    const int64_t n_assign = T * K;
    int32_t* chosen = s.host_expert.as<int32_t>();
    check(cudaMemcpyAsync(chosen, s.expert.as<int32_t>(), n_assign * 4, cudaMemcpyDeviceToHost, s.stream), "routing");
    check(cudaStreamSynchronize(s.stream), "routing");
    std::vector<int64_t> offset(static_cast<size_t>(E + 1), 0);
    for (int64_t a = 0; a < n_assign; ++a) {
      if (chosen[a] < 0 || chosen[a] >= E) throw Error(ERNIE_E_BACKEND, "CUDA: the router chose no valid expert");
      ++offset[static_cast<size_t>(chosen[a] + 1)];
    }
    for (int64_t e = 0; e < E; ++e) offset[static_cast<size_t>(e + 1)] += offset[static_cast<size_t>(e)];
    std::vector<int64_t> fill(offset.begin(), offset.end() - 1);
    int32_t* token = s.host_groups.as<int32_t>();
    int32_t* slot = token + n_assign;
    for (int64_t a = 0; a < n_assign; ++a) {
      const int64_t at = fill[static_cast<size_t>(chosen[a])]++;
      token[at] = static_cast<int32_t>(a / K);
      slot[at] = static_cast<int32_t>(a);
    }
    check(cudaMemcpyAsync(s.group_token.as<void>(), token, n_assign * 4, cudaMemcpyHostToDevice, s.stream), "groups");
    check(cudaMemcpyAsync(s.group_slot.as<void>(), slot, n_assign * 4, cudaMemcpyHostToDevice, s.stream), "groups");
    for (int64_t e = 0; e < E; ++e) {
      const int64_t o0 = offset[static_cast<size_t>(e)], n = offset[static_cast<size_t>(e + 1)] - o0;
      if (n == 0) continue;
      float* rows = s.gathered.as<float>();
      gather_act_rows(s.h.as<float>(), H, s.group_token.as<int32_t>() + o0, n, H, rows, s.stream);
      product_swiglu(s, L.gate_exps, L.up_exps, e, rows, H, n, s.inter.as<float>(), Iw, s.up_rows.as<float>());
      product(s, L.down_exps, e, s.inter.as<float>(), Iw, n, rows, H, false);
      scatter_act_rows(rows, H, s.group_slot.as<int32_t>() + o0, n, s.moe_out.as<float>(), H, s.stream);
    }
  }

  DeviceModel m_;
  const ModelConfig& c_;
};

}  // namespace

std::unique_ptr<ModelRuntime> make_cuda_runtime(const ModelWeights& weights) {
  cublas_api();  // a missing cuBLAS fails here, where "auto" still falls back to the CPU
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  return std::make_unique<CudaRuntime>(weights, device);
}

}  // namespace ernie::cuda
