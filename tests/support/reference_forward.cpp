#include "support/reference_forward.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include <cstring>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "support/hf_writer.h"
#include "support/test_util.h"

namespace test {
namespace {

using Vec = std::vector<double>;
using ernie::DType;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The weights, read straight from hf_writer's generator (unfused names,
// without prefix) and rounded the way the checkpoint stores them. Each tensor
// is generated once and kept.
struct Weights {
  const ReferenceOptions& o;
  mutable std::map<std::string, Vec> cache;

  double stored(const std::string& name, uint64_t i) const {
    if (o.source) return o.edit_weight ? o.edit_weight(name, i, o.source(name, i)) : o.source(name, i);
    float v = hf_weight_value(name, i, o.seed, o.weight_scale);
    // The router and its bias are f32 in every ERNIE checkpoint; norms are
    // rounded like matrices unless the packer made them f32 from f32.
    const bool router = ends_with(name, ".mlp.gate.weight") || ends_with(name, "e_score_correction_bias");
    const bool norm = ends_with(name, "norm.weight");
    if (!router && (!norm || o.round_norms)) {
      if (o.dtype == DType::BF16) v = ernie::bf16_to_f32(ernie::f32_to_bf16(v));
      if (o.dtype == DType::F16) v = ernie::f16_to_f32(ernie::f32_to_f16(v));
    }
    double d = v;
    if (o.edit_weight) d = o.edit_weight(name, i, d);
    return d;
  }
  // The first n elements of tensor `name`.
  const Vec& tensor(const std::string& name, uint64_t n) const {
    Vec& t = cache[name];
    for (uint64_t i = t.size(); i < n; ++i) t.push_back(stored(name, i));
    return t;
  }
  // y = W x for W [rows, cols].
  Vec matvec(const std::string& name, const Vec& x, int64_t rows) const {
    const auto cols = static_cast<int64_t>(x.size());
    const Vec& w = tensor(name, static_cast<uint64_t>(rows * cols));
    Vec y(static_cast<size_t>(rows), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) s += w[static_cast<size_t>(r * cols + c)] * x[static_cast<size_t>(c)];
      y[static_cast<size_t>(r)] = s;
    }
    return y;
  }
  // x * rsqrt(mean(x^2) + eps) * w   (no +1 on w)
  Vec rmsnorm(const std::string& name, const Vec& x, double eps) const {
    const Vec& w = tensor(name, x.size());
    double ss = 0;
    for (double v : x) ss += v * v;
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * w[i];
    return y;
  }
  // down( silu(gate(h)) * up(h) )
  Vec mlp(const std::string& base, const Vec& h, int64_t width) const {
    Vec g = matvec(base + "gate_proj.weight", h, width);
    Vec u = matvec(base + "up_proj.weight", h, width);
    for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
    return matvec(base + "down_proj.weight", g, static_cast<int64_t>(h.size()));
  }
};

// Rotates each head of v by position `pos`: pair i is (2i, 2i+1) for the
// interleaved ("GPT-J") form ERNIE uses, (i, i + hd/2) for the NeoX form.
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

// The k largest of `score` (ties: lower index first), as a sorted index list.
std::vector<int64_t> top_k(const Vec& score, int64_t k) {
  std::vector<int64_t> order(score.size());
  for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int64_t>(e);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)]; });
  order.resize(static_cast<size_t>(k));
  return order;
}

Vec moe(const Weights& W, const ernie::ModelConfig& c, const std::string& L, const Vec& h, const ReferenceOptions& o) {
  const int64_t E = c.moe_num_experts, H = c.hidden_size;
  // p = softmax(h W_router^T)
  Vec p = W.matvec(L + "mlp.gate.weight", h, E);
  const double mx = *std::max_element(p.begin(), p.end());
  double z = 0;
  for (double& e : p) z += (e = std::exp(e - mx));
  for (double& e : p) e /= z;
  // sel = top_k(p + e_score_correction_bias): the bias only chooses.
  Vec score = p;
  if (o.router_bias) {
    const Vec& bias = W.tensor(L + "mlp.moe_statics.e_score_correction_bias", static_cast<uint64_t>(E));
    for (int64_t e = 0; e < E; ++e) score[static_cast<size_t>(e)] += bias[static_cast<size_t>(e)];
  }
  std::vector<int64_t> sel = top_k(score, c.moe_k);
  // w = p[sel] / max(sum p[sel], moe_norm_min)
  const Vec& wsrc = o.weights_from_biased ? score : p;
  double sum = 0;
  for (int64_t e : sel) sum += wsrc[static_cast<size_t>(e)];
  if (o.stats) {
    std::vector<int64_t> a = sel, b = top_k(p, c.moe_k);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    o.stats->routings += 1;
    o.stats->bias_changed += a != b ? 1 : 0;
    o.stats->norm_min_clamped += sum < c.moe_norm_min ? 1 : 0;
  }
  Vec out(static_cast<size_t>(H), 0.0);
  for (int64_t e : sel) {
    const double w = wsrc[static_cast<size_t>(e)] / std::max(sum, c.moe_norm_min);
    Vec y = W.mlp(L + "mlp.experts." + std::to_string(e) + ".", h, c.moe_intermediate_size);
    for (int64_t i = 0; i < H; ++i) out[static_cast<size_t>(i)] += w * y[static_cast<size_t>(i)];
  }
  // + ONE shared MLP of width moe_intermediate_size * n_shared
  if (c.moe_num_shared_experts > 0) {
    Vec y = W.mlp(L + "mlp.shared_experts.", h, c.shared_intermediate());
    for (int64_t i = 0; i < H; ++i) out[static_cast<size_t>(i)] += y[static_cast<size_t>(i)];
  }
  return out;
}

}  // namespace

WeightSource safetensors_source(const std::string& dir) {
  struct Tensor {
    std::shared_ptr<const std::string> file;
    size_t offset = 0;  // of the data, from the start of the file
    std::string dtype;
    uint64_t elements = 0;
  };
  std::vector<std::string> files;
  if (std::filesystem::exists(dir + "/model.safetensors.index.json")) {
    auto index = nlohmann::json::parse(read_file(dir + "/model.safetensors.index.json"));
    for (const auto& [name, file] : index["weight_map"].items()) {
      if (std::find(files.begin(), files.end(), file.get<std::string>()) == files.end()) files.push_back(file.get<std::string>());
    }
  } else {
    files.push_back("model.safetensors");
  }
  auto tensors = std::make_shared<std::map<std::string, Tensor>>();
  for (const std::string& f : files) {
    auto bytes = std::make_shared<const std::string>(read_file(dir + "/" + f));
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes->data(), 8);  // little-endian host
    auto header = nlohmann::json::parse(bytes->substr(8, header_len));
    for (const auto& [name, t] : header.items()) {
      if (name == "__metadata__") continue;
      uint64_t n = 1;
      for (const auto& d : t["shape"]) n *= d.get<uint64_t>();
      std::string plain = name.rfind("model.", 0) == 0 ? name.substr(6) : name;
      (*tensors)[plain] = {bytes, 8 + header_len + t["data_offsets"][0].get<size_t>(), t["dtype"], n};
    }
  }
  return [tensors](const std::string& name, uint64_t i) -> double {
    auto it = tensors->find(name);
    if (it == tensors->end()) throw std::runtime_error("checkpoint has no tensor " + name);
    const Tensor& t = it->second;
    if (i >= t.elements) throw std::runtime_error("index past the end of " + name);
    const char* p = t.file->data() + t.offset;
    if (t.dtype == "F32") {
      float v;
      std::memcpy(&v, p + 4 * i, 4);
      return v;
    }
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    if (t.dtype == "BF16") return ernie::bf16_to_f32(h);
    if (t.dtype == "F16") return ernie::f16_to_f32(h);
    throw std::runtime_error("unexpected dtype " + t.dtype + " of " + name);
  };
}

std::vector<std::vector<double>> reference_logits(const ernie::ModelConfig& c, const std::vector<int32_t>& ids,
                                                  const ReferenceOptions& o) {
  const Weights W{o, {}};
  const int64_t H = c.hidden_size, hd = c.head_dim, T = static_cast<int64_t>(ids.size());
  const double eps = c.rms_norm_eps;
  auto at = [](auto& v, int64_t i) -> auto& { return v[static_cast<size_t>(i)]; };

  // x = embed_tokens[ids]
  const Vec& embed = W.tensor("embed_tokens.weight", static_cast<uint64_t>(c.vocab_size * H));
  std::vector<Vec> x(static_cast<size_t>(T), Vec(static_cast<size_t>(H)));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t i = 0; i < H; ++i) at(x[static_cast<size_t>(t)], i) = at(embed, at(ids, t) * H + i);
  }

  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string L = "layers." + std::to_string(l) + ".";
    // Attention: q, k, v of every position, rotated by position.
    std::vector<Vec> q(static_cast<size_t>(T)), k(static_cast<size_t>(T)), v(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      Vec h = W.rmsnorm(L + "input_layernorm.weight", at(x, t), eps);
      at(q, t) = W.matvec(L + "self_attn.q_proj.weight", h, c.q_dim());
      at(k, t) = W.matvec(L + "self_attn.k_proj.weight", h, c.kv_dim());
      at(v, t) = W.matvec(L + "self_attn.v_proj.weight", h, c.kv_dim());
      rope(at(q, t), c.n_heads, hd, t, c.rope_theta, o.neox_rope);
      rope(at(k, t), c.n_kv_heads, hd, t, c.rope_theta, o.neox_rope);
    }
    const int64_t group = c.n_heads / c.n_kv_heads;
    for (int64_t t = 0; t < T; ++t) {
      Vec attn(static_cast<size_t>(c.q_dim()), 0.0);
      for (int64_t h = 0; h < c.n_heads; ++h) {
        const int64_t kvh = o.gqa_modulo ? h % c.n_kv_heads : h / group;
        // softmax over positions 0..t (causal) of q.k / sqrt(hd)
        Vec s(static_cast<size_t>(t + 1));
        double mx = -INFINITY;
        for (int64_t p = 0; p <= t; ++p) {
          double d = 0;
          for (int64_t j = 0; j < hd; ++j) d += at(at(q, t), h * hd + j) * at(at(k, p), kvh * hd + j);
          at(s, p) = d / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, at(s, p));
        }
        double z = 0;
        for (double& e : s) z += (e = std::exp(e - mx));
        for (int64_t p = 0; p <= t; ++p) {
          for (int64_t j = 0; j < hd; ++j) at(attn, h * hd + j) += at(s, p) / z * at(at(v, p), kvh * hd + j);
        }
      }
      // x = x + a Wo^T
      Vec o_proj = W.matvec(L + "self_attn.o_proj.weight", attn, H);
      for (int64_t i = 0; i < H; ++i) at(at(x, t), i) += at(o_proj, i);
    }
    // x = x + (moe(h) or mlp(h)),  h = rmsnorm(x, post_attention_layernorm)
    for (int64_t t = 0; t < T; ++t) {
      Vec& xt = at(x, t);
      Vec h = W.rmsnorm(L + "post_attention_layernorm.weight", xt, eps);
      Vec out = c.layer_is_moe(l) ? moe(W, c, L, h, o) : W.mlp(L + "mlp.", h, c.intermediate_size);
      for (int64_t i = 0; i < H; ++i) at(xt, i) += at(out, i);
    }
  }

  // logits = rmsnorm(x, norm) E^T, E = embed_tokens when tied, else lm_head
  std::vector<Vec> result;
  const std::string head = c.tie_word_embeddings ? "embed_tokens.weight" : "lm_head.weight";
  for (int64_t t = 0; t < T; ++t) {
    Vec h = W.rmsnorm("norm.weight", at(x, t), eps);
    result.push_back(W.matvec(head, h, c.vocab_size));
  }
  return result;
}

}  // namespace test
