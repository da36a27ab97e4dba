// The CPU backend: the ERNIE 4.5 forward pass (ERNIE45.md §3) over weights
// mapped from the packed file, one batch of tokens at a time. Float weights
// multiply f32 activations; quantized weights multiply activations quantized
// once per product input (ops/act_a8.h).
#include <algorithm>
#include <new>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_state.h"
#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/moe_layer.h"
#include "backends/cpu/ops/attention.h"
#include "backends/cpu/ops/matmul.h"
#include "backends/cpu/ops/norm_rope.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace ernie {
namespace {

std::vector<float> to_f32(const TensorView& v) {
  std::vector<float> out(static_cast<size_t>(v.n_mats * v.rows * v.cols));
  convert_to_f32(v.type, v.data, out.data(), out.size());
  return out;
}

bool quantized(const TensorView& w) { return dtype_is_quantized(w.type); }

class CpuRuntime final : public ModelRuntime {
 public:
  explicit CpuRuntime(const ModelWeights& w) : w_(w), c_(w.config) {
    cpu::detect_isa();  // a bad ERNIE_CPU_ISA fails the load with its message, not a forward pass
    layers_.resize(w.layers.size());
    for (size_t i = 0; i < w.layers.size(); ++i) {
      const LayerWeights& L = w.layers[i];
      layers_[i].attn_norm = to_f32(L.attn_norm);
      layers_[i].ffn_norm = to_f32(L.ffn_norm);
      if (L.is_moe) {
        layers_[i].router = to_f32(L.router);
        layers_[i].router_bias = to_f32(L.router_bias);
      }
    }
    output_norm_ = to_f32(w.output_norm);
    inv_freq_.resize(static_cast<size_t>(c_.head_dim / 2));
    rope_inv_freq(c_.rope_theta, c_.head_dim, inv_freq_.data());
    max_cols_ = std::max({c_.hidden_size, c_.intermediate_size, c_.moe_intermediate_size,
                          c_.shared_intermediate(), c_.q_dim()});
    shape_ = {c_.n_heads, c_.n_kv_heads, c_.head_dim};
  }

  uint64_t state_bytes(int64_t n_ctx, int64_t n_batch, KvType kv) const override {
    return CpuSessionState::bytes_for(c_, n_ctx, n_batch, kv);
  }

  std::unique_ptr<SessionState> create_state(int64_t n_ctx, int64_t n_batch, KvType kv) const override {
    try {
      return std::make_unique<CpuSessionState>(c_, n_ctx, n_batch, kv);
    } catch (const std::bad_alloc&) {
      ERNIE_FAIL(ERNIE_E_OUT_OF_MEMORY, "cannot allocate %llu bytes for a session of %lld tokens",
                 static_cast<unsigned long long>(state_bytes(n_ctx, n_batch, kv)), static_cast<long long>(n_ctx));
    }
  }

  void forward(SessionState& base, const ForwardRequest& req) const override {
    auto& s = static_cast<CpuSessionState&>(base);
    ThreadPool& pool = *req.pool;
    const int64_t T = req.n_tokens, H = c_.hidden_size;
    const int64_t scratch_floats = std::max(matmul_scratch_floats(pool.size(), max_cols_),
                                            attention_scratch_floats(pool.size(), shape_, req.pos0 + T));
    float* scratch = s.thread_scratch(static_cast<size_t>(scratch_floats));

    for (int64_t t = 0; t < T; ++t) row_to_f32(w_.token_embd, 0, req.tokens[t], &s.x[static_cast<size_t>(t * H)]);

    for (size_t li = 0; li < w_.layers.size(); ++li) {
      attention_block(s, static_cast<int64_t>(li), req, pool, scratch);
      const LayerWeights& L = w_.layers[li];
      norm_rows(s.x.data(), layers_[li].ffn_norm.data(), s.h.data(), T);
      if (L.is_moe) {
        moe_ffn(L, layers_[li], c_, s, T, pool, scratch);
      } else {
        dense_ffn(L, s, T, pool, scratch);
      }
    }

    // Final norm and output head for the rows the caller wants.
    const int64_t first = req.all_logits ? 0 : T - 1;
    const int64_t n_out = T - first;
    norm_rows(s.x.data() + first * H, output_norm_.data(), s.h.data(), n_out);
    MatJob head{&w_.output, 0, nullptr, input(s, w_.output, s.h.data(), n_out, H, pool), req.logits, c_.vocab_size};
    run_matmuls(&head, 1, pool, scratch);
  }

 private:
  void norm_rows(const float* x, const float* w, float* out, int64_t n) const {
    const int64_t H = c_.hidden_size;
    for (int64_t t = 0; t < n; ++t) rmsnorm(x + t * H, w, static_cast<float>(c_.rms_norm_eps), out + t * H, H);
  }

  // The input of a product with `w`: the f32 rows, plus their A8 rows when w
  // is quantized (quantized here; the caller reuses the result for the other
  // matrices that read the same rows).
  static MatInput input(CpuSessionState& s, const TensorView& w, const float* x, int64_t n, int64_t ld,
                        ThreadPool& pool) {
    MatInput in{x, ld, nullptr, nullptr, n};
    if (quantized(w)) {
      s.a8.quantize(x, n, ld, w.cols, pool);
      in.a8 = s.a8.rows();
    }
    return in;
  }

  void attention_block(CpuSessionState& s, int64_t li, const ForwardRequest& req, ThreadPool& pool,
                       float* scratch) const {
    const LayerWeights& L = w_.layers[static_cast<size_t>(li)];
    const int64_t T = req.n_tokens, H = c_.hidden_size, kvd = c_.kv_dim(), qd = c_.q_dim();
    norm_rows(s.x.data(), layers_[static_cast<size_t>(li)].attn_norm.data(), s.h.data(), T);
    MatInput in = input(s, L.attn_q, s.h.data(), T, H, pool);
    if (!in.a8 && (quantized(L.attn_k) || quantized(L.attn_v))) in = input(s, L.attn_k, s.h.data(), T, H, pool);
    const MatJob qkv[3] = {{&L.attn_q, 0, nullptr, in, s.q.data(), qd},
                           {&L.attn_k, 0, nullptr, in, s.k_new.data(), kvd},
                           {&L.attn_v, 0, nullptr, in, s.v_new.data(), kvd}};
    run_matmuls(qkv, 3, pool, scratch);
    for (int64_t t = 0; t < T; ++t) {
      rope_interleaved(&s.q[static_cast<size_t>(t * qd)], c_.n_heads, c_.head_dim, req.pos0 + t, inv_freq_.data());
      rope_interleaved(&s.k_new[static_cast<size_t>(t * kvd)], c_.n_kv_heads, c_.head_dim, req.pos0 + t,
                       inv_freq_.data());
    }
    s.store_kv(li, req.pos0, T, s.k_new.data(), s.v_new.data());
    attention(s.q.data(), s.kv_layer(li), req.pos0, T, shape_, s.attn.data(), pool, scratch);
    // x += attn Wo^T
    MatJob o{&L.attn_o, 0, nullptr, input(s, L.attn_o, s.attn.data(), T, qd, pool), s.x.data(), H};
    o.accumulate = true;
    run_matmuls(&o, 1, pool, scratch);
  }

  // x += SwiGLU MLP(h) of a dense layer.
  void dense_ffn(const LayerWeights& L, CpuSessionState& s, int64_t T, ThreadPool& pool, float* scratch) const {
    const int64_t H = c_.hidden_size, I = L.ffn_gate.rows;
    const MatJob gate_up{&L.ffn_gate, 0, &L.ffn_up, input(s, L.ffn_gate, s.h.data(), T, H, pool), s.inter.data(), I};
    run_matmuls(&gate_up, 1, pool, scratch);
    MatJob down{&L.ffn_down, 0, nullptr, input(s, L.ffn_down, s.inter.data(), T, I, pool), s.x.data(), H};
    down.accumulate = true;
    run_matmuls(&down, 1, pool, scratch);
  }

  const ModelWeights& w_;
  const ModelConfig& c_;
  std::vector<LayerF32> layers_;
  std::vector<float> output_norm_;
  std::vector<double> inv_freq_;
  int64_t max_cols_ = 0;
  AttentionShape shape_{};
};

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  std::unique_ptr<ModelRuntime> prepare(const ModelWeights& weights) const override {
    return std::make_unique<CpuRuntime>(weights);
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace ernie
