#include "hf/name_map.h"

#include <charconv>

namespace ernie {
namespace {

struct Rule {
  const char* hf_suffix;
  std::vector<const char*> canonical_suffixes;  // more than one: fused, split by rows
};

// Names after "<prefix>" (model-level), "<prefix>layers.N." and
// "<prefix>layers.N.mlp.experts.E.".
const std::vector<Rule>& model_rules() {
  static const std::vector<Rule> rules = {
      {"embed_tokens.weight", {"token_embd"}},
      {"norm.weight", {"output_norm"}},
  };
  return rules;
}

const std::vector<Rule>& layer_rules() {
  static const std::vector<Rule> rules = {
      {"input_layernorm.weight", {"attn_norm"}},
      {"post_attention_layernorm.weight", {"ffn_norm"}},
      {"self_attn.q_proj.weight", {"attn_q"}},
      {"self_attn.k_proj.weight", {"attn_k"}},
      {"self_attn.v_proj.weight", {"attn_v"}},
      {"self_attn.qkv_proj.weight", {"attn_q", "attn_k", "attn_v"}},
      {"self_attn.o_proj.weight", {"attn_o"}},
      {"mlp.gate_proj.weight", {"ffn_gate"}},
      {"mlp.up_proj.weight", {"ffn_up"}},
      {"mlp.up_gate_proj.weight", {"ffn_gate", "ffn_up"}},
      {"mlp.down_proj.weight", {"ffn_down"}},
      {"mlp.gate.weight", {"moe_router"}},
      {"mlp.moe_statics.e_score_correction_bias", {"moe_router_bias"}},
      {"mlp.shared_experts.gate_proj.weight", {"moe_gate_shexp"}},
      {"mlp.shared_experts.up_proj.weight", {"moe_up_shexp"}},
      {"mlp.shared_experts.up_gate_proj.weight", {"moe_gate_shexp", "moe_up_shexp"}},
      {"mlp.shared_experts.down_proj.weight", {"moe_down_shexp"}},
  };
  return rules;
}

const std::vector<Rule>& expert_rules() {
  static const std::vector<Rule> rules = {
      {"gate_proj.weight", {"moe_gate_exps"}},
      {"up_proj.weight", {"moe_up_exps"}},
      {"up_gate_proj.weight", {"moe_gate_exps", "moe_up_exps"}},
      {"down_proj.weight", {"moe_down_exps"}},
  };
  return rules;
}

constexpr std::string_view kOutputName = "lm_head.weight";
constexpr std::string_view kPrefixes[] = {"model.", "ernie."};
constexpr std::string_view kLayers = "layers.";
constexpr std::string_view kExperts = "mlp.experts.";

const Rule* find_rule(const std::vector<Rule>& rules, std::string_view suffix) {
  for (const Rule& r : rules) {
    if (suffix == r.hf_suffix) return &r;
  }
  return nullptr;
}

// Reads "<decimal>." from the front of s (no sign, no leading zeros).
std::optional<int64_t> take_index(std::string_view& s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 9) return std::nullopt;
  if (s[0] == '0' && dot > 1) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + dot, v);
  if (ec != std::errc() || ptr != s.data() + dot) return std::nullopt;
  s.remove_prefix(dot + 1);
  return v;
}

HfMapping mapping(const Rule& r, const std::string& canonical_prefix, int64_t slice) {
  HfMapping m;
  for (const char* suffix : r.canonical_suffixes) m.targets.push_back({canonical_prefix + suffix, slice});
  return m;
}

}  // namespace

std::optional<HfMapping> map_hf_name(std::string_view name) {
  if (name.find("mtp") != std::string_view::npos) return HfMapping{true, {}};
  if (name == kOutputName) return HfMapping{false, {{"output", -1}}};
  bool prefixed = false;
  for (std::string_view p : kPrefixes) {
    if (name.substr(0, p.size()) == p) {
      name.remove_prefix(p.size());
      prefixed = true;
      break;
    }
  }
  if (!prefixed) return std::nullopt;
  if (name.substr(0, kLayers.size()) != kLayers) {
    const Rule* r = find_rule(model_rules(), name);
    if (!r) return std::nullopt;
    return mapping(*r, "", -1);
  }
  name.remove_prefix(kLayers.size());
  auto layer = take_index(name);
  if (!layer) return std::nullopt;
  const std::string blk = "blk." + std::to_string(*layer) + ".";
  if (name.substr(0, kExperts.size()) == kExperts) {
    name.remove_prefix(kExperts.size());
    auto expert = take_index(name);
    const Rule* r = expert ? find_rule(expert_rules(), name) : nullptr;
    if (!r) return std::nullopt;
    return mapping(*r, blk, *expert);
  }
  const Rule* r = find_rule(layer_rules(), name);
  if (!r) return std::nullopt;
  return mapping(*r, blk, -1);
}

std::string hf_name_for(std::string_view canonical, int64_t slice, std::string_view prefix) {
  if (canonical == "output") return std::string(kOutputName);
  // A single-target rule whose canonical suffix ends `canonical`.
  auto unfused = [&](const std::vector<Rule>& rules, std::string_view suffix) -> const Rule* {
    for (const Rule& r : rules) {
      if (r.canonical_suffixes.size() == 1 && suffix == r.canonical_suffixes[0]) return &r;
    }
    return nullptr;
  };
  std::string out(prefix);
  if (canonical.substr(0, 4) != "blk.") {
    const Rule* r = unfused(model_rules(), canonical);
    return r ? out + r->hf_suffix : std::string(canonical);
  }
  std::string_view rest = canonical.substr(4);
  auto layer = take_index(rest);
  if (!layer) return std::string(canonical);
  out += "layers." + std::to_string(*layer) + ".";
  if (slice >= 0) {
    const Rule* r = unfused(expert_rules(), rest);
    return r ? out + "mlp.experts." + std::to_string(slice) + "." + r->hf_suffix : std::string(canonical);
  }
  const Rule* r = unfused(layer_rules(), rest);
  return r ? out + r->hf_suffix : std::string(canonical);
}

}  // namespace ernie
