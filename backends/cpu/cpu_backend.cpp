// The CPU backend: the ERNIE 4.5 forward pass (ERNIE45.md §3) over weights
// mapped from the packed file, one batch of tokens at a time.
#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/moe_router.h"
#include "backends/cpu/ops/attention.h"
#include "backends/cpu/ops/matmul.h"
#include "backends/cpu/ops/norm_rope.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace ernie {
namespace {

// Small per-layer vectors converted to f32 once at load.
struct LayerF32 {
  std::vector<float> attn_norm, ffn_norm, router, router_bias;
};

std::vector<float> to_f32(const TensorView& v) {
  std::vector<float> out(static_cast<size_t>(v.n_mats * v.rows * v.cols));
  convert_to_f32(v.type, v.data, out.data(), out.size());
  return out;
}

// Buffers sized for n_batch tokens; the KV cache holds n_ctx positions.
class CpuSessionState final : public SessionState {
 public:
  CpuSessionState(const ModelConfig& c, int64_t n_ctx, int64_t n_batch)
      : n_ctx_(n_ctx), n_batch_(n_batch), n_layers_(c.num_layers), kv_dim_(c.kv_dim()) {
    const int64_t H = c.hidden_size, kv = c.kv_dim();
    const int64_t ffn = std::max({c.intermediate_size, c.moe_intermediate_size, c.shared_intermediate()});
    const int64_t k = c.is_moe ? c.moe_k : 0;
    k_cache.resize(static_cast<size_t>(c.num_layers * n_ctx * kv));
    v_cache.resize(k_cache.size());
    x.resize(static_cast<size_t>(n_batch * H));
    h.resize(x.size());
    q.resize(static_cast<size_t>(n_batch * c.q_dim()));
    attn.resize(q.size());
    gate.resize(static_cast<size_t>(n_batch * ffn));
    up.resize(gate.size());
    ffn_out.resize(x.size());
    gathered.resize(x.size());
    moe_acc.resize(x.size());
    moe_out.resize(static_cast<size_t>(n_batch * std::max<int64_t>(k, 1) * H));
    router_logits.resize(static_cast<size_t>(n_batch * std::max<int64_t>(c.moe_num_experts, 1)));
    choices.resize(static_cast<size_t>(n_batch * std::max<int64_t>(k, 1)));
    probs.resize(static_cast<size_t>(std::max<int64_t>(c.moe_num_experts, 1)));
    expert_rows.resize(static_cast<size_t>(n_batch));
  }
  int64_t n_ctx() const override { return n_ctx_; }
  int64_t n_batch() const override { return n_batch_; }

  uint64_t kv_bytes(int64_t n_tokens) const override {
    return 2ull * static_cast<uint64_t>(n_layers_ * n_tokens * kv_dim_) * sizeof(float);
  }
  void save_kv(int64_t n_tokens, uint8_t* out) const override { copy_kv(n_tokens, out, true); }
  void load_kv(int64_t n_tokens, const uint8_t* in) override { copy_kv(n_tokens, const_cast<uint8_t*>(in), false); }

  // Scratch that depends on the thread count, grown on demand.
  float* thread_scratch(size_t floats) {
    if (scratch.size() < floats) scratch.resize(floats);
    return scratch.data();
  }

  std::vector<float> k_cache, v_cache;  // [layer][pos][kv_dim]
  // Activations, [n_batch][width] each: width H for x, h, ffn_out, gathered,
  // moe_acc; q_dim for q and attn; the FFN width for gate and up.
  std::vector<float> x, h, q, attn, gate, up, ffn_out, gathered, moe_acc;
  std::vector<float> moe_out;  // [token][rank][H]: each chosen expert's output
  std::vector<float> router_logits, probs, scratch;
  std::vector<ExpertChoice> choices;    // [token][k]
  std::vector<int64_t> expert_rows;     // token index per gathered row

 private:
  void copy_kv(int64_t n_tokens, uint8_t* blob, bool to_blob) const {
    const size_t rows = static_cast<size_t>(n_tokens * kv_dim_) * sizeof(float);
    for (int64_t l = 0; l < n_layers_; ++l) {
      for (int kv = 0; kv < 2; ++kv) {
        auto* cache = const_cast<float*>((kv ? v_cache : k_cache).data()) + l * n_ctx_ * kv_dim_;
        uint8_t* b = blob + (static_cast<size_t>(l) * 2 + static_cast<size_t>(kv)) * rows;
        if (to_blob) {
          std::memcpy(b, cache, rows);
        } else {
          std::memcpy(cache, b, rows);
        }
      }
    }
  }

  int64_t n_ctx_, n_batch_, n_layers_, kv_dim_;
};

class CpuRuntime final : public ModelRuntime {
 public:
  explicit CpuRuntime(const ModelWeights& w) : w_(w), c_(w.config) {
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
  }

  uint64_t state_bytes(int64_t n_ctx, int64_t n_batch) const override {
    const auto f = sizeof(float);
    const int64_t ffn = std::max({c_.intermediate_size, c_.moe_intermediate_size, c_.shared_intermediate()});
    const int64_t k = c_.is_moe ? c_.moe_k : 1;
    uint64_t kv = 2ull * static_cast<uint64_t>(c_.num_layers * n_ctx * c_.kv_dim()) * f;
    uint64_t act = static_cast<uint64_t>(n_batch) *
                   static_cast<uint64_t>((5 + k) * c_.hidden_size + 2 * c_.q_dim() + 2 * ffn) * f;
    return kv + act;
  }

  std::unique_ptr<SessionState> create_state(int64_t n_ctx, int64_t n_batch) const override {
    try {
      return std::make_unique<CpuSessionState>(c_, n_ctx, n_batch);
    } catch (const std::bad_alloc&) {
      ERNIE_FAIL(ERNIE_E_OUT_OF_MEMORY, "cannot allocate %llu bytes for a session of %lld tokens",
                 static_cast<unsigned long long>(state_bytes(n_ctx, n_batch)), static_cast<long long>(n_ctx));
    }
  }

  void forward(SessionState& base, const ForwardRequest& req) const override {
    auto& s = static_cast<CpuSessionState&>(base);
    ThreadPool& pool = *req.pool;
    const int64_t T = req.n_tokens, H = c_.hidden_size;
    float* scratch = s.thread_scratch(static_cast<size_t>(pool.size()) *
                                      static_cast<size_t>(std::max(max_cols_, req.pos0 + T)));

    for (int64_t t = 0; t < T; ++t) row_to_f32(w_.token_embd, 0, req.tokens[t], &s.x[static_cast<size_t>(t * H)]);

    for (size_t li = 0; li < w_.layers.size(); ++li) {
      attention_block(s, static_cast<int64_t>(li), req, pool, scratch);
      const LayerWeights& L = w_.layers[li];
      for (int64_t t = 0; t < T; ++t) {
        rmsnorm(&s.x[static_cast<size_t>(t * H)], layers_[li].ffn_norm.data(), static_cast<float>(c_.rms_norm_eps),
                &s.h[static_cast<size_t>(t * H)], H);
      }
      if (L.is_moe) {
        moe_block(s, li, T, pool, scratch);
      } else {
        mlp(L.ffn_gate, L.ffn_up, L.ffn_down, 0, s.h.data(), T, s, s.x.data(), true, pool, scratch);
      }
    }

    // Final norm and output head for the rows the caller wants.
    const int64_t first = req.all_logits ? 0 : T - 1;
    const int64_t n_out = T - first;
    for (int64_t t = first; t < T; ++t) {
      rmsnorm(&s.x[static_cast<size_t>(t * H)], output_norm_.data(), static_cast<float>(c_.rms_norm_eps),
              &s.h[static_cast<size_t>(t * H)], H);
    }
    matmul(w_.output, 0, &s.h[static_cast<size_t>(first * H)], n_out, H, req.logits, c_.vocab_size, pool, scratch);
  }

 private:
  void attention_block(CpuSessionState& s, int64_t li, const ForwardRequest& req, ThreadPool& pool,
                       float* scratch) const {
    const LayerWeights& L = w_.layers[static_cast<size_t>(li)];
    const int64_t T = req.n_tokens, H = c_.hidden_size, kvd = c_.kv_dim(), qd = c_.q_dim();
    const auto eps = static_cast<float>(c_.rms_norm_eps);
    for (int64_t t = 0; t < T; ++t) {
      rmsnorm(&s.x[static_cast<size_t>(t * H)], layers_[static_cast<size_t>(li)].attn_norm.data(), eps,
              &s.h[static_cast<size_t>(t * H)], H);
    }
    float* k_layer = &s.k_cache[static_cast<size_t>(li * s.n_ctx() * kvd)];
    float* v_layer = &s.v_cache[static_cast<size_t>(li * s.n_ctx() * kvd)];
    float* k_new = k_layer + req.pos0 * kvd;
    float* v_new = v_layer + req.pos0 * kvd;
    matmul(L.attn_q, 0, s.h.data(), T, H, s.q.data(), qd, pool, scratch);
    matmul(L.attn_k, 0, s.h.data(), T, H, k_new, kvd, pool, scratch);
    matmul(L.attn_v, 0, s.h.data(), T, H, v_new, kvd, pool, scratch);
    for (int64_t t = 0; t < T; ++t) {
      rope_interleaved(&s.q[static_cast<size_t>(t * qd)], c_.n_heads, c_.head_dim, req.pos0 + t, inv_freq_.data());
      rope_interleaved(k_new + t * kvd, c_.n_kv_heads, c_.head_dim, req.pos0 + t, inv_freq_.data());
    }
    AttentionShape shape{c_.n_heads, c_.n_kv_heads, c_.head_dim, kvd};
    attention(s.q.data(), k_layer, v_layer, req.pos0, T, shape, s.attn.data(), pool, scratch);
    // x += attn Wo^T  (through h as the product buffer)
    matmul(L.attn_o, 0, s.attn.data(), T, qd, s.h.data(), H, pool, scratch);
    for (int64_t i = 0; i < T * H; ++i) s.x[static_cast<size_t>(i)] += s.h[static_cast<size_t>(i)];
  }

  // SwiGLU MLP of matrix `mat` of the given tensors over n rows of `in`
  // (stride H). Writes (or adds, when accumulate) the result to `out`.
  void mlp(const TensorView& g, const TensorView& u, const TensorView& d, int64_t mat, const float* in, int64_t n,
           CpuSessionState& s, float* out, bool accumulate, ThreadPool& pool, float* scratch) const {
    const int64_t H = c_.hidden_size, I = g.rows;
    matmul(g, mat, in, n, H, s.gate.data(), I, pool, scratch);
    matmul(u, mat, in, n, H, s.up.data(), I, pool, scratch);
    for (int64_t t = 0; t < n; ++t) silu_mul(&s.gate[static_cast<size_t>(t * I)], &s.up[static_cast<size_t>(t * I)], I);
    if (!accumulate) {
      matmul(d, mat, s.gate.data(), n, I, out, H, pool, scratch);
      return;
    }
    matmul(d, mat, s.gate.data(), n, I, s.ffn_out.data(), H, pool, scratch);
    for (int64_t i = 0; i < n * H; ++i) out[i] += s.ffn_out[static_cast<size_t>(i)];
  }

  void moe_block(CpuSessionState& s, size_t li, int64_t T, ThreadPool& pool, float* scratch) const {
    const LayerWeights& L = w_.layers[li];
    const LayerF32& Lf = layers_[li];
    const int64_t H = c_.hidden_size, E = c_.moe_num_experts, K = c_.moe_k;
    TensorView router{DType::F32, 1, E, H, static_cast<uint64_t>(H) * 4,
                      reinterpret_cast<const uint8_t*>(Lf.router.data())};
    matmul(router, 0, s.h.data(), T, H, s.router_logits.data(), E, pool, scratch);
    for (int64_t t = 0; t < T; ++t) {
      route_token(&s.router_logits[static_cast<size_t>(t * E)], Lf.router_bias.data(), E, K, c_.moe_norm_min,
                  s.probs.data(), &s.choices[static_cast<size_t>(t * K)]);
    }
    // Tokens grouped by expert: gather their rows, run the expert once, and
    // scatter each output to the (token, rank) slot it belongs to. The
    // weighted sum then runs per token in rank order, independent of batching.
    for (int64_t e = 0; e < E; ++e) {
      int64_t n = 0;
      for (int64_t t = 0; t < T; ++t) {
        for (int64_t j = 0; j < K; ++j) {
          if (s.choices[static_cast<size_t>(t * K + j)].expert != e) continue;
          std::memcpy(&s.gathered[static_cast<size_t>(n * H)], &s.h[static_cast<size_t>(t * H)], H * sizeof(float));
          s.expert_rows[static_cast<size_t>(n++)] = t * K + j;
        }
      }
      if (n == 0) continue;
      mlp(L.gate_exps, L.up_exps, L.down_exps, e, s.gathered.data(), n, s, s.ffn_out.data(), false, pool, scratch);
      for (int64_t r = 0; r < n; ++r) {
        std::memcpy(&s.moe_out[static_cast<size_t>(s.expert_rows[static_cast<size_t>(r)] * H)],
                    &s.ffn_out[static_cast<size_t>(r * H)], H * sizeof(float));
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      float* acc = &s.moe_acc[static_cast<size_t>(t * H)];
      for (int64_t i = 0; i < H; ++i) acc[i] = 0;
      for (int64_t j = 0; j < K; ++j) {
        const float wgt = s.choices[static_cast<size_t>(t * K + j)].weight;
        const float* o = &s.moe_out[static_cast<size_t>((t * K + j) * H)];
        for (int64_t i = 0; i < H; ++i) acc[i] += wgt * o[i];
      }
    }
    if (!L.gate_shexp.empty()) {
      mlp(L.gate_shexp, L.up_shexp, L.down_shexp, 0, s.h.data(), T, s, s.moe_acc.data(), true, pool, scratch);
    }
    for (int64_t i = 0; i < T * H; ++i) s.x[static_cast<size_t>(i)] += s.moe_acc[static_cast<size_t>(i)];
  }

  const ModelWeights& w_;
  const ModelConfig& c_;
  std::vector<LayerF32> layers_;
  std::vector<float> output_norm_;
  std::vector<double> inv_freq_;
  int64_t max_cols_ = 0;
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
