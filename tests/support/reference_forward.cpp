#include "support/reference_forward.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "support/hf_writer.h"

namespace test {
namespace {

using Vec = std::vector<double>;
using ernie::DType;

struct Weights {
  const ReferenceOptions& o;
  // Element `i` of the unfused HF tensor `name`, as stored.
  double at(const std::string& name, uint64_t i, bool f32 = false) const {
    float v = hf_weight_value(name, i, o.seed, o.weight_scale);
    if (!f32 && o.dtype == DType::BF16) v = ernie::bf16_to_f32(ernie::f32_to_bf16(v));
    if (!f32 && o.dtype == DType::F16) v = ernie::f16_to_f32(ernie::f32_to_f16(v));
    return v;
  }
  // y = W x for W [rows, cols].
  Vec matvec(const std::string& name, const Vec& x, int64_t rows, bool f32 = false) const {
    const auto cols = static_cast<int64_t>(x.size());
    Vec y(static_cast<size_t>(rows), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) s += at(name, static_cast<uint64_t>(r * cols + c), f32) * x[static_cast<size_t>(c)];
      y[static_cast<size_t>(r)] = s;
    }
    return y;
  }
  Vec rmsnorm(const std::string& name, const Vec& x, double eps) const {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * at(name, i);
    return y;
  }
  Vec mlp(const std::string& base, const Vec& h, int64_t width) const {
    Vec g = matvec(base + "gate_proj.weight", h, width);
    Vec u = matvec(base + "up_proj.weight", h, width);
    for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
    return matvec(base + "down_proj.weight", g, static_cast<int64_t>(h.size()));
  }
};

void rope(Vec& v, int64_t heads, int64_t hd, int64_t pos, double theta, bool neox) {
  for (int64_t h = 0; h < heads; ++h) {
    double* p = &v[static_cast<size_t>(h * hd)];
    for (int64_t i = 0; i < hd / 2; ++i) {
      const double angle = static_cast<double>(pos) * std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(hd));
      const int64_t a = neox ? i : 2 * i, b = neox ? i + hd / 2 : 2 * i + 1;
      const double x = p[a], y = p[b];
      p[a] = x * std::cos(angle) - y * std::sin(angle);
      p[b] = y * std::cos(angle) + x * std::sin(angle);
    }
  }
}

}  // namespace

std::vector<std::vector<double>> reference_logits(const ernie::ModelConfig& c, const std::vector<int32_t>& ids,
                                                  const ReferenceOptions& o) {
  const Weights W{o};
  const int64_t H = c.hidden_size, hd = c.head_dim, T = static_cast<int64_t>(ids.size());
  const double eps = c.rms_norm_eps;
  std::vector<Vec> x(static_cast<size_t>(T), Vec(static_cast<size_t>(H)));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t i = 0; i < H; ++i) {
      x[static_cast<size_t>(t)][static_cast<size_t>(i)] =
          W.at("embed_tokens.weight", static_cast<uint64_t>(ids[static_cast<size_t>(t)] * H + i));
    }
  }
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string L = "layers." + std::to_string(l) + ".";
    std::vector<Vec> q(static_cast<size_t>(T)), k(static_cast<size_t>(T)), v(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      Vec h = W.rmsnorm(L + "input_layernorm.weight", x[static_cast<size_t>(t)], eps);
      q[static_cast<size_t>(t)] = W.matvec(L + "self_attn.q_proj.weight", h, c.q_dim());
      k[static_cast<size_t>(t)] = W.matvec(L + "self_attn.k_proj.weight", h, c.kv_dim());
      v[static_cast<size_t>(t)] = W.matvec(L + "self_attn.v_proj.weight", h, c.kv_dim());
      rope(q[static_cast<size_t>(t)], c.n_heads, hd, t, c.rope_theta, o.neox_rope);
      rope(k[static_cast<size_t>(t)], c.n_kv_heads, hd, t, c.rope_theta, o.neox_rope);
    }
    const int64_t group = c.n_heads / c.n_kv_heads;
    for (int64_t t = 0; t < T; ++t) {
      Vec attn(static_cast<size_t>(c.q_dim()), 0.0);
      for (int64_t h = 0; h < c.n_heads; ++h) {
        const int64_t kvh = h / group;
        Vec s(static_cast<size_t>(t + 1));
        double mx = -INFINITY;
        for (int64_t p = 0; p <= t; ++p) {
          double d = 0;
          for (int64_t j = 0; j < hd; ++j) {
            d += q[static_cast<size_t>(t)][static_cast<size_t>(h * hd + j)] * k[static_cast<size_t>(p)][static_cast<size_t>(kvh * hd + j)];
          }
          s[static_cast<size_t>(p)] = d / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, s[static_cast<size_t>(p)]);
        }
        double z = 0;
        for (double& e : s) z += (e = std::exp(e - mx));
        for (int64_t p = 0; p <= t; ++p) {
          for (int64_t j = 0; j < hd; ++j) {
            attn[static_cast<size_t>(h * hd + j)] += s[static_cast<size_t>(p)] / z * v[static_cast<size_t>(p)][static_cast<size_t>(kvh * hd + j)];
          }
        }
      }
      Vec o_proj = W.matvec(L + "self_attn.o_proj.weight", attn, H);
      for (int64_t i = 0; i < H; ++i) x[static_cast<size_t>(t)][static_cast<size_t>(i)] += o_proj[static_cast<size_t>(i)];
    }
    for (int64_t t = 0; t < T; ++t) {
      Vec& xt = x[static_cast<size_t>(t)];
      Vec h = W.rmsnorm(L + "post_attention_layernorm.weight", xt, eps);
      Vec out(static_cast<size_t>(H), 0.0);
      if (c.layer_is_moe(l)) {
        const int64_t E = c.moe_num_experts;
        Vec logits = W.matvec(L + "mlp.gate.weight", h, E, true);
        double mx = *std::max_element(logits.begin(), logits.end()), z = 0;
        for (double& e : logits) z += (e = std::exp(e - mx));
        for (double& e : logits) e /= z;  // probabilities
        std::vector<int64_t> order(static_cast<size_t>(E));
        for (int64_t e = 0; e < E; ++e) order[static_cast<size_t>(e)] = e;
        auto score = [&](int64_t e) {
          double b = o.router_bias ? W.at(L + "mlp.moe_statics.e_score_correction_bias", static_cast<uint64_t>(e), true) : 0.0;
          return logits[static_cast<size_t>(e)] + b;
        };
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score(a) > score(b); });
        double sum = 0;
        for (int64_t j = 0; j < c.moe_k; ++j) sum += logits[static_cast<size_t>(order[static_cast<size_t>(j)])];
        for (int64_t j = 0; j < c.moe_k; ++j) {
          const int64_t e = order[static_cast<size_t>(j)];
          const double w = logits[static_cast<size_t>(e)] / std::max(sum, c.moe_norm_min);
          Vec y = W.mlp(L + "mlp.experts." + std::to_string(e) + ".", h, c.moe_intermediate_size);
          for (int64_t i = 0; i < H; ++i) out[static_cast<size_t>(i)] += w * y[static_cast<size_t>(i)];
        }
        if (c.moe_num_shared_experts > 0) {
          Vec y = W.mlp(L + "mlp.shared_experts.", h, c.shared_intermediate());
          for (int64_t i = 0; i < H; ++i) out[static_cast<size_t>(i)] += y[static_cast<size_t>(i)];
        }
      } else {
        out = W.mlp(L + "mlp.", h, c.intermediate_size);
      }
      for (int64_t i = 0; i < H; ++i) xt[static_cast<size_t>(i)] += out[static_cast<size_t>(i)];
    }
  }
  std::vector<Vec> result;
  const std::string head = c.tie_word_embeddings ? "embed_tokens.weight" : "lm_head.weight";
  for (int64_t t = 0; t < T; ++t) {
    Vec h = W.rmsnorm("norm.weight", x[static_cast<size_t>(t)], eps);
    result.push_back(W.matvec(head, h, c.vocab_size));
  }
  return result;
}

}  // namespace test
