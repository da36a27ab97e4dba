#include "support/hf_writer.h"

#include <algorithm>
#include <cstring>

#include "platform/platform.h"
#include "util/error.h"

namespace test {

using namespace ernie;
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kChunkElements = 1u << 20;

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t name_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

// ~N(0, 1): four 16-bit uniforms summed (Irwin-Hall), centred and scaled.
float normal_from(uint64_t bits) {
  float sum = 0;
  for (int i = 0; i < 4; ++i) sum += static_cast<float>((bits >> (16 * i)) & 0xffffu) * (1.0f / 65535.0f);
  return (sum - 2.0f) * 1.7320508f;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const char* dtype_string(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    default: return "F32";  // checkpoints hold only float types
  }
}

size_t element_bytes(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  return 1;
}

uint64_t element_count(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

HfTensor::Part part(const std::string& name, const std::vector<int64_t>& shape) {
  return {name, element_count(shape)};
}

// The unfused tensors of a config, in checkpoint order, without prefix.
struct Plain {
  std::string name;
  std::vector<int64_t> shape;
  bool router = false;  // F32 in every ERNIE checkpoint
};

std::vector<Plain> plain_tensors(const ModelConfig& c, const HfWriteOptions& o) {
  const int64_t H = c.hidden_size;
  std::vector<Plain> t;
  t.push_back({"embed_tokens.weight", {c.vocab_size, H}});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string L = "layers." + std::to_string(i) + ".";
    t.push_back({L + "input_layernorm.weight", {H}});
    t.push_back({L + "post_attention_layernorm.weight", {H}});
    t.push_back({L + "self_attn.q_proj.weight", {c.q_dim(), H}});
    t.push_back({L + "self_attn.k_proj.weight", {c.kv_dim(), H}});
    t.push_back({L + "self_attn.v_proj.weight", {c.kv_dim(), H}});
    t.push_back({L + "self_attn.o_proj.weight", {H, c.q_dim()}});
    auto mlp = [&](const std::string& base, int64_t width) {
      t.push_back({base + "gate_proj.weight", {width, H}});
      t.push_back({base + "up_proj.weight", {width, H}});
      t.push_back({base + "down_proj.weight", {H, width}});
    };
    if (c.layer_is_moe(i)) {
      t.push_back({L + "mlp.gate.weight", {c.moe_num_experts, H}, true});
      if (o.router_bias) t.push_back({L + "mlp.moe_statics.e_score_correction_bias", {1, c.moe_num_experts}, true});
      for (int64_t e = 0; e < c.moe_num_experts; ++e) mlp(L + "mlp.experts." + std::to_string(e) + ".", c.moe_intermediate_size);
      if (c.moe_num_shared_experts > 0) mlp(L + "mlp.shared_experts.", c.shared_intermediate());
    } else {
      mlp(L + "mlp.", c.intermediate_size);
    }
  }
  t.push_back({"norm.weight", {H}});
  return t;
}

// Applies the layout options to the unfused list: prefix, fusing, lm_head, mtp.
std::vector<HfTensor> layout(const ModelConfig& c, const HfWriteOptions& o) {
  const std::vector<Plain> plain = plain_tensors(c, o);
  const std::string weights = dtype_string(o.dtype);
  std::vector<HfTensor> out;
  for (size_t i = 0; i < plain.size(); ++i) {
    const Plain& p = plain[i];
    const std::string dtype = p.router ? "F32" : weights;
    if (o.fused_qkv && ends_with(p.name, "self_attn.q_proj.weight")) {
      const Plain& k = plain[i + 1];
      const Plain& v = plain[i + 2];
      std::string base = p.name.substr(0, p.name.size() - std::string_view("q_proj.weight").size());
      out.push_back({o.prefix + base + "qkv_proj.weight", dtype, {p.shape[0] + k.shape[0] + v.shape[0], p.shape[1]},
                     {part(p.name, p.shape), part(k.name, k.shape), part(v.name, v.shape)}});
      i += 2;
    } else if (o.fused_up_gate && ends_with(p.name, "gate_proj.weight")) {
      const Plain& up = plain[i + 1];
      std::string base = p.name.substr(0, p.name.size() - std::string_view("gate_proj.weight").size());
      out.push_back({o.prefix + base + "up_gate_proj.weight", dtype, {p.shape[0] + up.shape[0], p.shape[1]},
                     {part(p.name, p.shape), part(up.name, up.shape)}});
      ++i;
    } else {
      out.push_back({o.prefix + p.name, dtype, p.shape, {part(p.name, p.shape)}});
    }
  }
  if (!c.tie_word_embeddings || o.lm_head_when_tied) {
    std::vector<int64_t> shape = {c.vocab_size, c.hidden_size};
    out.push_back({"lm_head.weight", weights, shape, {part("lm_head.weight", shape)}});
  }
  if (o.mtp) {
    const int64_t H = c.hidden_size;
    for (const char* name : {"mtp_block.0.self_attn.q_proj.weight", "mtp_linear_proj.0.weight"}) {
      out.push_back({o.prefix + name, weights, {H, H}, {part(name, {H, H})}});
    }
    out.push_back({o.prefix + "mtp_emb_norm.0.weight", weights, {H}, {part("mtp_emb_norm.0.weight", {H})}});
  }
  return out;
}

// The value stream of one unfused tensor: hashing the name once per chunk
// keeps generation of multi-GB checkpoints fast.
struct ValueStream {
  uint64_t key;
  float offset, scale;
  ValueStream(std::string_view name, uint64_t seed, float weight_scale)
      : key(name_hash(name) ^ splitmix64(seed)), offset(0.0f), scale(weight_scale) {
    if (ends_with(name, "norm.weight")) {
      offset = 1.0f;
      scale = 0.1f;
    } else if (ends_with(name, "e_score_correction_bias")) {
      scale = 0.05f;
    }
  }
  float operator()(uint64_t index) const {
    return offset + scale * normal_from(splitmix64(key ^ (index * 0xD1B54A32D192ED03ull)));
  }
};

// Fills f32[0, n) with elements [first, first + n) of `t`.
void generate(const HfTensor& t, uint64_t first, size_t n, const HfWriteOptions& o, float* f32) {
  uint64_t parts_total = 0;
  for (const auto& p : t.parts) parts_total += p.elements;
  if (parts_total != element_count(t.shape)) {
    ValueStream v(t.name, o.seed, o.weight_scale);
    for (size_t i = 0; i < n; ++i) f32[i] = v(first + i);
    return;
  }
  uint64_t part_start = 0;
  size_t done = 0;
  for (const auto& p : t.parts) {
    const uint64_t part_end = part_start + p.elements;
    if (done < n && first + done < part_end) {
      ValueStream v(p.name, o.seed, o.weight_scale);
      for (; done < n && first + done < part_end; ++done) f32[done] = v(first + done - part_start);
    }
    part_start = part_end;
  }
}

// Encodes f32 values as `dtype` (other than the float types: derived integers).
void encode(const std::string& dtype, const float* f32, size_t n, uint8_t* dst) {
  if (dtype == "F32") return convert_from_f32(DType::F32, f32, dst, n);
  if (dtype == "F16") return convert_from_f32(DType::F16, f32, dst, n);
  if (dtype == "BF16") return convert_from_f32(DType::BF16, f32, dst, n);
  const size_t eb = element_bytes(dtype);
  for (size_t i = 0; i < n; ++i) {
    if (dtype == "F64") {
      double d = f32[i];
      std::memcpy(dst + 8 * i, &d, 8);
    } else {
      int64_t v = static_cast<int64_t>(f32[i] * 1000.0f);
      std::memcpy(dst + eb * i, &v, eb);  // little-endian low bytes
    }
  }
}

void write_safetensors(const std::string& path, const std::vector<const HfTensor*>& tensors,
                       const HfWriteOptions& o) {
  Json header = Json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const HfTensor* t : tensors) {
    uint64_t bytes = element_count(t->shape) * element_bytes(t->dtype);
    header[t->name] = {{"dtype", t->dtype}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');  // pad: data starts 8-byte aligned
  File f(path, File::Mode::WriteNew);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  f.write_at(0, len, 8);
  f.write_at(8, text.data(), text.size());
  uint64_t pos = 8 + text.size();
  std::vector<float> f32(kChunkElements);
  std::vector<uint8_t> bytes(kChunkElements * 8);
  for (const HfTensor* t : tensors) {
    const uint64_t total = element_count(t->shape);
    const size_t eb = element_bytes(t->dtype);
    for (uint64_t first = 0; first < total; first += kChunkElements) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkElements, total - first));
      generate(*t, first, n, o, f32.data());
      encode(t->dtype, f32.data(), n, bytes.data());
      f.write_at(pos, bytes.data(), n * eb);
      pos += n * eb;
    }
  }
}

std::string shard_name(int k, int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", k, n);
  return buf;
}

void write_text(const std::string& path, const std::string& text) {
  File f(path, File::Mode::WriteNew);
  f.write_at(0, text.data(), text.size());
}

}  // namespace

float hf_weight_value(std::string_view name, uint64_t index, uint64_t seed, float weight_scale) {
  return ValueStream(name, seed, weight_scale)(index);
}

Json hf_config_json(const ModelConfig& config, DType dtype) {
  Json j = config.to_json();
  j["hidden_act"] = "silu";
  j["use_bias"] = false;
  j["torch_dtype"] = dtype == DType::F32 ? "float32" : dtype == DType::F16 ? "float16" : "bfloat16";
  return j;
}

void write_hf_checkpoint(const std::string& dir, const ModelConfig& config, const HfWriteOptions& o) {
  std::vector<HfTensor> tensors = layout(config, o);
  if (o.edit) o.edit(tensors);
  std::vector<const HfTensor*> kept;
  for (const auto& t : tensors) {
    if (!t.name.empty()) kept.push_back(&t);
  }

  write_text(path_join(dir, "config.json"), hf_config_json(config, o.dtype).dump(2));
  Json tok = {{"tokenizer_class", "Ernie4_5_Tokenizer"}, {"bos_token", "<s>"},   {"eos_token", "</s>"},
              {"unk_token", "<unk>"},                    {"pad_token", "<unk>"}, {"add_bos_token", false}};
  if (!o.chat_template.empty()) tok["chat_template"] = o.chat_template;
  for (const auto& [k, v] : o.tokenizer_config_extra.items()) tok[k] = v;
  write_text(path_join(dir, "tokenizer_config.json"), tok.dump(2));
  write_text(path_join(dir, "tokenizer.model"), read_small_file(o.tokenizer_model, 64u << 20));

  const int n = std::max(1, o.shards);
  if (n == 1) return write_safetensors(path_join(dir, "model.safetensors"), kept, o);
  Json weight_map = Json::object();
  uint64_t total_bytes = 0;
  for (int k = 0; k < n; ++k) {
    // Contiguous runs of tensors, as Hugging Face shards them.
    size_t begin = kept.size() * k / n, end = kept.size() * (k + 1) / n;
    std::vector<const HfTensor*> shard(kept.begin() + begin, kept.begin() + end);
    const std::string name = shard_name(k + 1, n);
    for (const HfTensor* t : shard) {
      weight_map[t->name] = name;
      total_bytes += element_count(t->shape) * element_bytes(t->dtype);
    }
    write_safetensors(path_join(dir, name), shard, o);
  }
  Json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
  write_text(path_join(dir, "model.safetensors.index.json"), index.dump(2));
}

}  // namespace test
