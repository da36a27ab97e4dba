// Packing Hugging Face checkpoints: the golden checkpoints, every accepted
// layout, dtype policies, bad input, cancellation, the C API and streaming
// memory use.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ernie.h"
#include "format/packed_file.h"
#include "hf/packer.h"
#include "hf/safetensors.h"
#include "model/config.h"
#include "model/tensor_names.h"
#include "platform/platform.h"
#include "support/hf_writer.h"
#include "support/dir_listing.h"
#include "support/test_util.h"
#include "util/checksum.h"
#include "util/error.h"
#include "util/json.h"

using namespace ernie;
using test::HfTensor;
using test::HfWriteOptions;
using test::read_file;
using test::TempDir;
using test::write_file;
using test::write_hf_checkpoint;

namespace {

using Json = nlohmann::ordered_json;

const std::string kData = ERNIE_TEST_DATA_DIR;

ModelConfig config_of(const std::string& dir) {
  return ModelConfig::from_json(parse_json(read_file(dir + "/config.json"), "config.json"));
}

std::pair<ernie_status, std::string> pack_error(const std::string& hf_dir, const std::string& out,
                                                const PackOptions& opt = {}) {
  try {
    pack_checkpoint(hf_dir, out, opt);
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
  return {ERNIE_OK, ""};
}

#define CHECK_PACK_FAILS(hf_dir, out, status, substring)                          \
  do {                                                                            \
    auto [s_, m_] = pack_error(hf_dir, out);                                      \
    CHECK_MESSAGE(s_ == (status), m_);                                            \
    CHECK_MESSAGE(m_.find(substring) != std::string::npos, "message: " << m_);    \
  } while (0)

std::string tensor_bytes(const PackedFile& pf, const std::string& name) {
  const TensorInfo* t = pf.find(name);
  REQUIRE_MESSAGE(t != nullptr, name);
  return {static_cast<const char*>(pf.data(*t)), t->size};
}

// Bytes [offset, offset + n) of a canonical tensor (n = all when 0).
std::string slice_bytes(const PackedFile& pf, const std::string& name, uint64_t offset, uint64_t n) {
  return tensor_bytes(pf, name).substr(offset, n);
}

std::string source_bytes(const std::string& file, const std::string& name) {
  SafetensorsFile st(file);
  const SafetensorsTensor* t = st.find(name);
  REQUIRE_MESSAGE(t != nullptr, name);
  std::string b(t->size, '\0');
  st.read(t->offset, b.data(), b.size());
  return b;
}

// The packed directory matches expected_tensors(config) in order and shape.
void check_directory(const PackedFile& pf, const ModelConfig& cfg) {
  auto expected = expected_tensors(cfg);
  REQUIRE(pf.tensors().size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(pf.tensors()[i].name == expected[i].name);
    CHECK(pf.tensors()[i].shape == expected[i].shape);
    CHECK_NOTHROW(pf.verify_tensor(pf.tensors()[i]));
  }
}

void check_provenance(const PackedFile& pf, const std::string& hf_dir, size_t n_files) {
  const Json& files = pf.metadata()["provenance"]["source_files"];
  CHECK(files.size() == n_files);
  for (const Json& f : files) {
    std::string bytes = read_file(hf_dir + "/" + f["name"].get<std::string>());
    CHECK(f["size"].get<uint64_t>() == bytes.size());
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", crc32c(bytes.data(), bytes.size()));
    CHECK_MESSAGE(f["crc32c"] == hex, f["name"]);
  }
}

// A small MoE config: layer 0 dense, layers 1-2 MoE, shared expert, untied.
ModelConfig small_moe(bool tied = false) {
  Json j = {{"architectures", {"Ernie4_5_MoeForCausalLM"}},
            {"hidden_size", 32},
            {"intermediate_size", 48},
            {"moe_intermediate_size", 16},
            {"num_hidden_layers", 3},
            {"num_attention_heads", 4},
            {"num_key_value_heads", 2},
            {"head_dim", 8},
            {"moe_num_experts", 4},
            {"moe_k", 2},
            {"moe_num_shared_experts", 1},
            {"moe_layer_start_index", 1},
            {"vocab_size", 100},
            {"tie_word_embeddings", tied}};
  return ModelConfig::from_json(j);
}

std::string hf_dir_with(TempDir& dir, const std::string& name, const ModelConfig& cfg, const HfWriteOptions& opt) {
  std::string d = dir.file(name);
  REQUIRE(mkdir(d.c_str(), 0755) == 0);
  write_hf_checkpoint(d, cfg, opt);
  return d;
}

// The unfused Hugging Face name (without prefix) holding canonical element
// `index`, and its index there: an oracle independent of the packer's
// name mapping.
std::pair<std::string, uint64_t> oracle_source(const TensorSpec& s, uint64_t index) {
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_norm", "input_layernorm.weight"}, {"ffn_norm", "post_attention_layernorm.weight"},
      {"attn_q", "self_attn.q_proj.weight"},   {"attn_k", "self_attn.k_proj.weight"},
      {"attn_v", "self_attn.v_proj.weight"},   {"attn_o", "self_attn.o_proj.weight"},
      {"ffn_gate", "mlp.gate_proj.weight"},    {"ffn_up", "mlp.up_proj.weight"},
      {"ffn_down", "mlp.down_proj.weight"},    {"moe_router", "mlp.gate.weight"},
      {"moe_router_bias", "mlp.moe_statics.e_score_correction_bias"},
      {"moe_gate_shexp", "mlp.shared_experts.gate_proj.weight"},
      {"moe_up_shexp", "mlp.shared_experts.up_proj.weight"},
      {"moe_down_shexp", "mlp.shared_experts.down_proj.weight"},
      {"moe_gate_exps", "gate_proj.weight"}, {"moe_up_exps", "up_proj.weight"}, {"moe_down_exps", "down_proj.weight"}};
  if (s.name == "token_embd") return {"embed_tokens.weight", index};
  if (s.name == "output_norm") return {"norm.weight", index};
  if (s.name == "output") return {"lm_head.weight", index};
  size_t dot = s.name.find('.', 4);
  std::string layer = s.name.substr(4, dot - 4), suffix = s.name.substr(dot + 1);
  for (auto [canonical, hf] : kLayer) {
    if (suffix != canonical) continue;
    if (s.shape.size() == 3) {
      uint64_t per = static_cast<uint64_t>(s.shape[1] * s.shape[2]);
      return {"layers." + layer + ".mlp.experts." + std::to_string(index / per) + "." + hf, index % per};
    }
    return {"layers." + layer + "." + hf, index};
  }
  FAIL("no oracle for " << s.name);
  return {};
}

}  // namespace

TEST_CASE("pack: tiny-moe-a (f32, tied, one shard)") {
  TempDir tmp;
  const std::string src = kData + "/tiny-moe-a", out = tmp.file("a.ernie");
  pack_checkpoint(src, out);
  auto pf = PackedFile::open(out, true);
  const ModelConfig cfg = config_of(src);
  check_directory(*pf, cfg);
  for (const auto& t : pf->tensors()) CHECK(t.type == DType::F32);
  CHECK(pf->find("output") == nullptr);

  const std::string st = src + "/model.safetensors";
  CHECK(tensor_bytes(*pf, "token_embd") == source_bytes(st, "model.embed_tokens.weight"));
  CHECK(tensor_bytes(*pf, "blk.0.ffn_up") == source_bytes(st, "model.layers.0.mlp.up_proj.weight"));
  CHECK(tensor_bytes(*pf, "blk.1.moe_router") == source_bytes(st, "model.layers.1.mlp.gate.weight"));
  CHECK(tensor_bytes(*pf, "blk.1.moe_router_bias") ==
        source_bytes(st, "model.layers.1.mlp.moe_statics.e_score_correction_bias"));
  const uint64_t expert_bytes = 32 * 64 * 4;  // Ie x H f32
  CHECK(slice_bytes(*pf, "blk.1.moe_gate_exps", 3 * expert_bytes, expert_bytes) ==
        source_bytes(st, "model.layers.1.mlp.experts.3.gate_proj.weight"));
  CHECK(slice_bytes(*pf, "blk.2.moe_down_exps", 7 * expert_bytes, expert_bytes) ==
        source_bytes(st, "model.layers.2.mlp.experts.7.down_proj.weight"));
  CHECK(tensor_bytes(*pf, "blk.2.moe_up_shexp") == source_bytes(st, "model.layers.2.mlp.shared_experts.up_proj.weight"));

  const Json& m = pf->metadata();
  CHECK(m["format"] == 1);
  CHECK(m["config"] == cfg.to_json());
  CHECK(ModelConfig::from_json(m["config"]).to_json() == cfg.to_json());
  Json tok_cfg = parse_json(read_file(src + "/tokenizer_config.json"), "t");
  CHECK(m["chat_template"] == tok_cfg["chat_template"]);
  CHECK(m["tokenizer"]["type"] == "sentencepiece");
  CHECK(m["tokenizer"]["bos_token"] == "<s>");
  CHECK(m["tokenizer"]["cls_token"] == "<|begin_of_sentence|>");
  CHECK(m["tokenizer"]["add_bos_token"] == false);
  CHECK(m["provenance"]["source_dtype"] == "f32");
  CHECK(m["provenance"]["requested_type"] == "auto");
  CHECK(m["provenance"]["packer"].get<std::string>().rfind("ernie ", 0) == 0);
  CHECK(m["tensor_types"] == Json{{"f32", pf->tensors().size()}});
  CHECK(pf->tokenizer_bytes() == read_file(src + "/tokenizer.model"));
  check_provenance(*pf, src, 4);  // config, tokenizer.model, tokenizer_config, model.safetensors
}

TEST_CASE("pack: tiny-moe-b (bf16, untied, two shards, MTP tensors)") {
  TempDir tmp;
  const std::string src = kData + "/tiny-moe-b", out = tmp.file("b.ernie");
  std::vector<std::string> logs;
  PackOptions opt;
  opt.log = Logger(
      [](void* user, int32_t, const char* msg) { static_cast<std::vector<std::string>*>(user)->push_back(msg); },
      &logs, ERNIE_LOG_DEBUG);
  pack_checkpoint(src, out, opt);
  auto pf = PackedFile::open(out, false);
  check_directory(*pf, config_of(src));
  for (const auto& t : pf->tensors()) {
    bool router = t.name.find("moe_router") != std::string::npos;
    CHECK_MESSAGE(t.type == (router ? DType::F32 : DType::BF16), t.name);
  }
  const std::string s1 = src + "/model-00001-of-00002.safetensors", s2 = src + "/model-00002-of-00002.safetensors";
  CHECK(tensor_bytes(*pf, "output") == source_bytes(s2, "lm_head.weight"));
  CHECK(tensor_bytes(*pf, "blk.0.attn_norm") == source_bytes(s1, "model.layers.0.input_layernorm.weight"));
  // Layer 3 lives in the second shard: a stacked slice from there.
  const uint64_t expert_bytes = 40 * 96 * 2;
  SafetensorsFile shard2(s2);
  REQUIRE(shard2.find("model.layers.3.mlp.experts.15.up_proj.weight") != nullptr);
  CHECK(slice_bytes(*pf, "blk.3.moe_up_exps", 15 * expert_bytes, expert_bytes) ==
        source_bytes(s2, "model.layers.3.mlp.experts.15.up_proj.weight"));
  // The [1, E] correction bias becomes [E] and stays f32.
  CHECK(pf->find("blk.2.moe_router_bias")->shape == std::vector<int64_t>{16});
  const std::string bias = "model.layers.2.mlp.moe_statics.e_score_correction_bias";
  CHECK(tensor_bytes(*pf, "blk.2.moe_router_bias") == source_bytes(SafetensorsFile(s1).find(bias) ? s1 : s2, bias));
  CHECK(pf->metadata()["provenance"]["source_dtype"] == "bf16");
  CHECK(pf->metadata()["chat_template"].get<std::string>().find("<|im_start|>") != std::string::npos);
  check_provenance(*pf, src, 6);  // + index json, two shards
  bool logged_ignored = false;
  for (const auto& l : logs) logged_ignored |= l.find("mtp") != std::string::npos;
  CHECK(logged_ignored);
}

TEST_CASE("pack: tiny-dense") {
  TempDir tmp;
  const std::string src = kData + "/tiny-dense", out = tmp.file("d.ernie");
  pack_checkpoint(src, out);
  auto pf = PackedFile::open(out, true);
  check_directory(*pf, config_of(src));
  CHECK(pf->metadata()["config"]["architectures"][0] == "Ernie4_5ForCausalLM");
  CHECK(tensor_bytes(*pf, "blk.2.ffn_gate") ==
        source_bytes(src + "/model.safetensors", "model.layers.2.mlp.gate_proj.weight"));
}

TEST_CASE("pack: explicit types convert matrices, norms and router stay f32") {
  TempDir tmp;
  const std::string a = kData + "/tiny-moe-a", b = kData + "/tiny-moe-b";
  const std::string st_a = a + "/model.safetensors";

  PackOptions to_bf16;
  to_bf16.type = DType::BF16;
  pack_checkpoint(a, tmp.file("a-bf16"), to_bf16);
  auto pf = PackedFile::open(tmp.file("a-bf16"), true);
  for (const auto& t : pf->tensors()) {
    bool keep_f32 = t.name.find("norm") != std::string::npos || t.name.find("moe_router") != std::string::npos;
    CHECK_MESSAGE(t.type == (keep_f32 ? DType::F32 : DType::BF16), t.name);
  }
  std::string src = source_bytes(st_a, "model.embed_tokens.weight");
  std::vector<uint16_t> expect(src.size() / 4);
  convert_from_f32(DType::BF16, reinterpret_cast<const float*>(src.data()), expect.data(), expect.size());
  CHECK(tensor_bytes(*pf, "token_embd") == std::string(reinterpret_cast<const char*>(expect.data()), src.size() / 2));
  CHECK(tensor_bytes(*pf, "output_norm") == source_bytes(st_a, "model.norm.weight"));
  CHECK(pf->metadata()["provenance"]["requested_type"] == "bf16");

  PackOptions to_f16;
  to_f16.type = DType::F16;
  pack_checkpoint(a, tmp.file("a-f16"), to_f16);
  pf = PackedFile::open(tmp.file("a-f16"), true);
  std::string q = tensor_bytes(*pf, "blk.1.attn_q");
  src = source_bytes(st_a, "model.layers.1.self_attn.q_proj.weight");
  for (size_t i : {0, 17, 4095}) {
    float f;
    uint16_t h;
    std::memcpy(&f, src.data() + 4 * i, 4);
    std::memcpy(&h, q.data() + 2 * i, 2);
    CHECK(h == f32_to_f16(f));
  }

  PackOptions to_f32;
  to_f32.type = DType::F32;
  pack_checkpoint(b, tmp.file("b-f32"), to_f32);
  pf = PackedFile::open(tmp.file("b-f32"), true);
  for (const auto& t : pf->tensors()) CHECK(t.type == DType::F32);
  src = source_bytes(b + "/model-00001-of-00002.safetensors", "model.embed_tokens.weight");
  std::vector<float> wide(src.size() / 2);
  convert_to_f32(DType::BF16, src.data(), wide.data(), wide.size());
  CHECK(tensor_bytes(*pf, "token_embd") == std::string(reinterpret_cast<const char*>(wide.data()), src.size() * 2));
}

TEST_CASE("pack: output is deterministic (any thread count)") {
  TempDir tmp;
  for (const char* name : {"tiny-moe-a", "tiny-moe-b"}) {
    PackOptions one, four;
    one.n_threads = 1;
    four.n_threads = 4;
    pack_checkpoint(kData + "/" + name, tmp.file("x1"), one);
    pack_checkpoint(kData + "/" + name, tmp.file("x4"), four);
    CHECK(read_file(tmp.file("x1")) == read_file(tmp.file("x4")));
  }
}

TEST_CASE("pack: every accepted layout gives the same tensors") {
  TempDir tmp;
  const ModelConfig cfg = small_moe();
  HfWriteOptions plain;
  plain.dtype = DType::F32;
  const std::string base = hf_dir_with(tmp, "plain", cfg, plain);
  pack_checkpoint(base, tmp.file("plain.ernie"));
  auto ref = PackedFile::open(tmp.file("plain.ernie"), true);
  check_directory(*ref, cfg);

  // The plain layout against the generator's values, through an oracle.
  for (const TensorSpec& s : expected_tensors(cfg)) {
    const TensorInfo* t = ref->find(s.name);
    const float* v = static_cast<const float*>(ref->data(*t));
    uint64_t n = t->size / 4;
    for (uint64_t i : {uint64_t{0}, n / 3, n - 1}) {
      auto [hf_name, at] = oracle_source(s, i);
      CHECK_MESSAGE(v[i] == test::hf_weight_value(hf_name, at, plain.seed), s.name << "[" << i << "]");
    }
  }

  struct Variant {
    const char* name;
    std::function<void(HfWriteOptions&)> set;
  } variants[] = {
      {"fused", [](HfWriteOptions& o) { o.fused_qkv = o.fused_up_gate = true; }},
      {"ernie-prefix", [](HfWriteOptions& o) { o.prefix = "ernie."; }},
      {"shards", [](HfWriteOptions& o) { o.shards = 3; }},
      {"mtp", [](HfWriteOptions& o) { o.mtp = true; }},
      {"all", [](HfWriteOptions& o) {
         o.fused_qkv = o.fused_up_gate = o.mtp = true;
         o.prefix = "ernie.";
         o.shards = 4;
       }},
  };
  for (const Variant& v : variants) {
    CAPTURE(v.name);
    HfWriteOptions opt = plain;
    v.set(opt);
    const std::string dir = hf_dir_with(tmp, v.name, cfg, opt);
    pack_checkpoint(dir, tmp.file("v.ernie"));
    auto pf = PackedFile::open(tmp.file("v.ernie"), true);
    REQUIRE(pf->tensors().size() == ref->tensors().size());
    for (const TensorInfo& t : ref->tensors()) {
      CHECK_MESSAGE(tensor_bytes(*pf, t.name) == tensor_bytes(*ref, t.name), t.name);
    }
    CHECK(pf->metadata()["config"] == ref->metadata()["config"]);
  }
}

TEST_CASE("pack: tied lm_head is ignored, an absent router bias is zeros") {
  TempDir tmp;
  HfWriteOptions opt;
  opt.lm_head_when_tied = true;
  opt.router_bias = false;
  const std::string dir = hf_dir_with(tmp, "hf", small_moe(true), opt);
  pack_checkpoint(dir, tmp.file("m"));
  auto pf = PackedFile::open(tmp.file("m"), true);
  CHECK(pf->find("output") == nullptr);
  const TensorInfo* bias = pf->find("blk.1.moe_router_bias");
  REQUIRE(bias != nullptr);
  CHECK(bias->type == DType::F32);
  CHECK(tensor_bytes(*pf, "blk.1.moe_router_bias") == std::string(bias->size, '\0'));
}

TEST_CASE("pack: tokenizer settings and chat template") {
  TempDir tmp;
  HfWriteOptions opt;
  opt.chat_template = "from tokenizer_config";
  opt.tokenizer_config_extra = {
      {"added_tokens_decoder",
       {{"5", {{"content", "<think>"}, {"special", true}}}, {"3", {{"content", "<x>"}, {"special", false}}}}},
      {"eos_token", {{"content", "</s>"}, {"lstrip", false}}},
      {"add_bos_token", true}};
  const std::string dir = hf_dir_with(tmp, "hf", small_moe(), opt);
  pack_checkpoint(dir, tmp.file("m"));
  auto pf = PackedFile::open(tmp.file("m"), true);
  const Json& tok = pf->metadata()["tokenizer"];
  CHECK(tok["added_tokens"] == Json::parse(R"([{"id":3,"content":"<x>","special":false},
                                               {"id":5,"content":"<think>","special":true}])"));
  CHECK(tok["eos_token"] == "</s>");
  CHECK(tok["add_bos_token"] == true);
  CHECK(pf->metadata()["chat_template"] == "from tokenizer_config");

  // chat_template.jinja takes precedence.
  write_file(dir + "/chat_template.jinja", "from jinja {{ x }}");
  pack_checkpoint(dir, tmp.file("m"));
  pf = PackedFile::open(tmp.file("m"), true);
  CHECK(pf->metadata()["chat_template"] == "from jinja {{ x }}");

  // Without tokenizer_config.json: defaults, no template.
  std::remove((dir + "/tokenizer_config.json").c_str());
  std::remove((dir + "/chat_template.jinja").c_str());
  pack_checkpoint(dir, tmp.file("m"));
  pf = PackedFile::open(tmp.file("m"), true);
  CHECK(pf->metadata()["chat_template"] == "");
  CHECK(pf->metadata()["tokenizer"]["added_tokens"] == Json::array());

  Json bad = {{"added_tokens_decoder", {{"100", {{"content", "<y>"}}}}}};  // vocab is 100
  write_file(dir + "/tokenizer_config.json", bad.dump());
  CHECK_PACK_FAILS(dir, tmp.file("m"), ERNIE_E_INVALID_MODEL, "added token id '100' is not an id in the vocabulary");
}

TEST_CASE("pack: checkpoint errors name the problem") {
  TempDir tmp;
  const ModelConfig cfg = small_moe();
  const std::string out = tmp.file("out.ernie");
  int n = 0;
  // A fresh checkpoint directory per case.
  auto make = [&](HfWriteOptions opt = {}) { return hf_dir_with(tmp, "hf" + std::to_string(n++), cfg, opt); };
  auto edit = [](std::function<void(std::vector<HfTensor>&)> f) {
    HfWriteOptions o;
    o.edit = std::move(f);
    return o;
  };
  auto find = [](std::vector<HfTensor>& ts, const std::string& name) -> HfTensor& {
    for (auto& t : ts) {
      if (t.name == name) return t;
    }
    FAIL("no tensor " << name);
    return ts[0];
  };

  SUBCASE("directory problems") {
    CHECK_PACK_FAILS(tmp.file("absent"), out, ERNIE_E_IO, "does not exist");
    std::string d = make();
    std::remove((d + "/tokenizer.model").c_str());
    CHECK_PACK_FAILS(d, out, ERNIE_E_IO, "has no tokenizer.model");
    d = make();
    std::remove((d + "/config.json").c_str());
    CHECK_PACK_FAILS(d, out, ERNIE_E_IO, "has no config.json");
    d = make();
    std::remove((d + "/model.safetensors").c_str());
    CHECK_PACK_FAILS(d, out, ERNIE_E_IO, "has neither model.safetensors nor model.safetensors.index.json");
  }
  SUBCASE("a shard missing from the index") {
    HfWriteOptions o;
    o.shards = 3;
    std::string d = make(o);
    std::remove((d + "/model-00002-of-00003.safetensors").c_str());
    CHECK_PACK_FAILS(d, out, ERNIE_E_IO,
                     "shard 'model-00002-of-00003.safetensors' named in model.safetensors.index.json is missing");
  }
  SUBCASE("the index maps a tensor to a shard without it") {
    HfWriteOptions o;
    o.shards = 2;
    std::string d = make(o);
    Json index = parse_json(read_file(d + "/model.safetensors.index.json"), "t");
    index["weight_map"]["model.norm.weight"] = "model-00001-of-00002.safetensors";
    write_file(d + "/model.safetensors.index.json", index.dump());
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL,
                     "maps tensor 'model.norm.weight' to 'model-00001-of-00002.safetensors', which does not contain it");
    index["weight_map"]["model.norm.weight"] = "../model-00002-of-00002.safetensors";
    write_file(d + "/model.safetensors.index.json", index.dump());
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL, "must map to a file name inside the checkpoint directory");
  }
  SUBCASE("a tensor with the wrong shape") {
    std::string d = make(edit([&](auto& ts) { find(ts, "model.layers.0.self_attn.k_proj.weight").shape = {24, 32}; }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL,
                     "tensor 'model.layers.0.self_attn.k_proj.weight' has shape [24, 32], expected [16, 32] from config.json");
    d = make(edit([&](auto& ts) { find(ts, "model.layers.1.mlp.experts.2.down_proj.weight").shape = {16, 32}; }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL, "has shape [16, 32], expected [32, 16]");
  }
  SUBCASE("unsupported dtypes") {
    std::string d = make(edit([&](auto& ts) { find(ts, "model.layers.0.self_attn.q_proj.weight").dtype = "I8"; }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_UNSUPPORTED,
                     "tensor 'model.layers.0.self_attn.q_proj.weight' in '" + d +
                         "/model.safetensors' has dtype I8; only BF16, F16 and F32 are supported");
    d = make(edit([&](auto& ts) { find(ts, "model.norm.weight").dtype = "F64"; }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_UNSUPPORTED, "has dtype F64; only BF16, F16 and F32");
    d = make(edit([&](auto& ts) { find(ts, "model.norm.weight").dtype = "Q4_K"; }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_UNSUPPORTED, "tensor 'model.norm.weight' has unknown dtype 'Q4_K'");
  }
  SUBCASE("missing, duplicated and unknown tensors") {
    std::string d = make(edit([&](auto& ts) { find(ts, "model.layers.1.mlp.experts.3.up_proj.weight").name = ""; }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL,
                     "checkpoint has no tensor 'model.layers.1.mlp.experts.3.up_proj.weight' (needed for blk.1.moe_up_exps)");
    d = make(edit([&](auto& ts) { find(ts, "lm_head.weight").name = ""; }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL, "checkpoint has no tensor 'lm_head.weight' (needed for output)");
    d = make(edit([&](auto& ts) {
      HfTensor extra = find(ts, "model.layers.0.self_attn.q_proj.weight");
      extra.name = "model.layers.0.self_attn.qkv_proj.weight";
      extra.shape = {32 + 16 + 16, 32};
      ts.push_back(extra);
    }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL, "checkpoint provides blk.0.attn_q twice");
    d = make(edit([&](auto& ts) { ts.push_back({"model.layers.0.self_attn.rotary.weight", "F32", {4}, {}}); }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL,
                     "unexpected tensor 'model.layers.0.self_attn.rotary.weight' in '" + d + "/model.safetensors'");
    d = make(edit([&](auto& ts) { ts.push_back({"model.layers.1.mlp.gate_proj.weight", "F32", {48, 32}, {}}); }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL,
                     "unexpected tensor 'model.layers.1.mlp.gate_proj.weight': this model has no blk.1.ffn_gate");
    d = make(edit([&](auto& ts) { ts.push_back({"model.layers.1.mlp.experts.4.up_proj.weight", "F32", {16, 32}, {}}); }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL, "expert 4 does not exist (moe_num_experts is 4)");
    d = make(edit([&](auto& ts) { ts.push_back({"model.layers.7.input_layernorm.weight", "F32", {32}, {}}); }));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL, "this model has no blk.7.attn_norm");
  }
  SUBCASE("hostile safetensors files") {
    std::string d = make();
    const std::string st = d + "/model.safetensors";
    const std::string good = read_file(st);
    auto with_header = [](const std::string& header, size_t data_bytes) {
      std::string f(8, '\0');
      for (int i = 0; i < 8; ++i) f[i] = static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
      return f + header + std::string(data_bytes, '\0');
    };
    struct Case {
      std::string bytes;
      ernie_status status;
      std::string substring;
    } cases[] = {
        {good.substr(0, good.size() - 100), ERNIE_E_INVALID_MODEL, "lie outside the"},
        {good.substr(0, 5), ERNIE_E_INVALID_MODEL, "truncated: 5 bytes"},
        {good.substr(0, 60), ERNIE_E_INVALID_MODEL, "truncated: the header needs"},
        {std::string("\0\0\0\0\0\1\0\0", 8) + "{}", ERNIE_E_INVALID_MODEL, "header length 1099511627776 is absurd"},
        {with_header(std::string(100000, '[') + std::string(100000, ']'), 0), ERNIE_E_INVALID_MODEL,
         "header: JSON nested deeper than 64 levels"},
        {with_header("{\"a\": \x01garbage", 0), ERNIE_E_INVALID_MODEL, "header: invalid JSON at byte 6"},
        {with_header("[1, 2]", 0), ERNIE_E_INVALID_MODEL, "header is not a JSON object"},
        {with_header(R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", 4), ERNIE_E_INVALID_MODEL,
         "tensor 'x': 4 data bytes, but shape and dtype F32 need 8"},
        {with_header(R"({"x": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8), ERNIE_E_INVALID_MODEL,
         "tensor 'x': shape must hold non-negative integers"},
        {with_header(R"({"x": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", 8),
         ERNIE_E_INVALID_MODEL, "shape is absurdly large"},
        {with_header(R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", 8), ERNIE_E_INVALID_MODEL,
         "lie outside"},
        {with_header(R"({"x": {"dtype": "F32", "shape": [2]}})", 8), ERNIE_E_INVALID_MODEL,
         "'data_offsets' must be [begin, end]"},
        {with_header(R"({"x": 5})", 8), ERNIE_E_INVALID_MODEL, "entry is not an object"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.substring);
      write_file(st, c.bytes);
      CHECK_PACK_FAILS(d, out, c.status, c.substring);
    }
  }
  SUBCASE("bad config.json") {
    std::string d = make();
    Json base = parse_json(read_file(d + "/config.json"), "t");
    auto with = [&](const std::function<void(Json&)>& f) {
      Json j = base;
      f(j);
      write_file(d + "/config.json", j.dump());
      return d;
    };
    CHECK_PACK_FAILS(with([](Json& j) { j["num_key_value_heads"] = 3; }), out, ERNIE_E_INVALID_MODEL,
                     "num_attention_heads (4) is not a multiple of num_key_value_heads (3)");
    CHECK_PACK_FAILS(with([](Json& j) { j["vocab_size"] = 1000000000000LL; }), out, ERNIE_E_INVALID_MODEL,
                     "'vocab_size' = 1000000000000 is out of range");
    CHECK_PACK_FAILS(with([](Json& j) { j.erase("hidden_size"); }), out, ERNIE_E_INVALID_MODEL,
                     "missing required key 'hidden_size'");
    write_file(d + "/config.json", "{\"hidden_size\": 32,,}");
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL, "config.json: invalid JSON at byte 19");
    write_file(d + "/config.json", std::string(5000, '['));
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL, "config.json: JSON nested deeper than 64 levels");
    write_file(d + "/config.json", "\xff\xfe garbage");
    CHECK_PACK_FAILS(d, out, ERNIE_E_INVALID_MODEL, "config.json: invalid JSON at byte 0");
  }
  // Nothing was ever written to the output path.
  CHECK(!path_exists(out));
  for (const auto& name : test::dir_listing(tmp.path())) CHECK_MESSAGE(name.rfind("hf", 0) == 0, name);
}

TEST_CASE("pack: cancelling leaves no output and no temp file") {
  TempDir tmp;
  const std::string out = tmp.file("m.ernie");
  for (int stop_at : {1, 2}) {
    int calls = 0;
    PackOptions opt;
    opt.progress = [&](float) { return ++calls < stop_at; };
    auto [status, message] = pack_error(kData + "/tiny-moe-b", out, opt);
    CHECK(status == ERNIE_E_CANCELLED);
    CHECK(test::dir_listing(tmp.path()).empty());
  }
  // A failed pack leaves an existing file untouched.
  write_file(out, "previous");
  PackOptions opt;
  opt.progress = [](float f) { return f < 1.0f; };
  CHECK(pack_error(kData + "/tiny-moe-a", out, opt).first == ERNIE_E_CANCELLED);
  CHECK(read_file(out) == "previous");
  CHECK(test::dir_listing(tmp.path()) == std::vector<std::string>{"m.ernie"});
  // Progress is monotone, from 0 to 1, on the calling thread.
  std::vector<float> seen;
  opt.progress = [&](float f) {
    seen.push_back(f);
    return true;
  };
  pack_checkpoint(kData + "/tiny-moe-a", out, opt);
  REQUIRE(seen.size() >= 2);
  CHECK(seen.front() == 0.0f);
  CHECK(seen.back() == 1.0f);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
}

TEST_CASE("ernie_pack: C API") {
  TempDir tmp;
  const std::string src = kData + "/tiny-moe-a", out = tmp.file("m.ernie");
  ernie_pack_params p;
  ernie_pack_params_init(&p);
  CHECK(p.struct_size == sizeof p);
  CHECK(p.type == ERNIE_TYPE_AUTO);

  CHECK(ernie_pack(nullptr, out.c_str(), &p) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(std::string(ernie_last_error()).find("hf_dir") != std::string::npos);
  CHECK(ernie_pack(src.c_str(), nullptr, &p) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_pack(src.c_str(), "", &p) == ERNIE_E_INVALID_ARGUMENT);
  p.type = 9;
  CHECK(ernie_pack(src.c_str(), out.c_str(), &p) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(std::string(ernie_last_error()).find("type 9") != std::string::npos);
  ernie_pack_params_init(&p);
  p.n_threads = -1;
  CHECK(ernie_pack(src.c_str(), out.c_str(), &p) == ERNIE_E_INVALID_ARGUMENT);
  ernie_pack_params_init(&p);
  p.struct_size = 0;
  CHECK(ernie_pack(src.c_str(), out.c_str(), &p) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(!path_exists(out));

  CHECK(ernie_pack((src + "-nope").c_str(), out.c_str(), nullptr) == ERNIE_E_IO);
  CHECK(std::string(ernie_last_error()).find("does not exist") != std::string::npos);

  struct Seen {
    std::vector<std::string> logs;
    int progress_calls = 0;
    int cancel_after = 1 << 30;
  } seen;
  ernie_pack_params_init(&p);
  p.type = ERNIE_TYPE_BF16;
  p.log = [](void* u, int32_t, const char* m) { static_cast<Seen*>(u)->logs.push_back(m); };
  p.log_user_data = &seen;
  p.progress = [](void* u, float) -> int32_t {
    auto* s = static_cast<Seen*>(u);
    return ++s->progress_calls > s->cancel_after ? 1 : 0;
  };
  p.progress_user_data = &seen;
  CHECK(ernie_pack(src.c_str(), out.c_str(), &p) == ERNIE_OK);
  CHECK(std::string(ernie_last_error()).empty());
  CHECK(seen.progress_calls >= 2);
  REQUIRE(!seen.logs.empty());
  CHECK(seen.logs.back().find("wrote") != std::string::npos);
  CHECK(PackedFile::open(out, true)->find("token_embd")->type == DType::BF16);

  std::remove(out.c_str());
  seen.progress_calls = 0;
  seen.cancel_after = 1;
  CHECK(ernie_pack(src.c_str(), out.c_str(), &p) == ERNIE_E_CANCELLED);
  CHECK(test::dir_listing(tmp.path()).empty());

  // A params struct from an older header (only struct_size and type) is accepted.
  struct {
    size_t struct_size;
    int32_t type;
  } old{sizeof(size_t) + sizeof(int32_t), ERNIE_TYPE_F32};
  CHECK(ernie_pack(src.c_str(), out.c_str(), reinterpret_cast<const ernie_pack_params*>(&old)) == ERNIE_OK);
  CHECK(PackedFile::open(out, true)->find("token_embd")->type == DType::F32);
}

// ---------------------------------------------------------------------------
// Streaming memory: pack a ~1 GB bf16 checkpoint in a fresh child process (the
// test binary itself, running only the case below) and measure its peak RSS.

namespace {
constexpr const char* kRssJobEnv = "ERNIE_TEST_PACK_RSS_JOB";
constexpr const char* kRssChildCase = "pack child: measure peak RSS of one pack";
}  // namespace

TEST_CASE("pack child: measure peak RSS of one pack" * doctest::test_suite("slow")) {
  const char* job = std::getenv(kRssJobEnv);
  if (!job) return;  // only does work in the child started by the test below
  const std::string dir = job;
  const uint64_t before = current_rss_bytes();
  pack_checkpoint(dir + "/hf", dir + "/out.ernie");
  const uint64_t peak = peak_rss_bytes();
  write_file(dir + "/rss.txt", std::to_string(before) + " " + std::to_string(peak));
}

TEST_CASE("pack: a 1 GB checkpoint packs with small peak RSS" * doctest::test_suite("slow")) {
  TempDir tmp;
  // Dense, 8 layers of 2048 x 8192: 537 M parameters, 1.07 GB in bf16, 2 shards.
  Json j = {{"architectures", {"Ernie4_5ForCausalLM"}},
            {"hidden_size", 2048},
            {"intermediate_size", 8192},
            {"num_hidden_layers", 8},
            {"num_attention_heads", 16},
            {"num_key_value_heads", 16},
            {"vocab_size", 1000}};
  const ModelConfig cfg = ModelConfig::from_json(j);
  HfWriteOptions opt;
  opt.shards = 2;
  const std::string hf = hf_dir_with(tmp, "hf", cfg, opt);

  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
    setenv(kRssJobEnv, tmp.path().c_str(), 1);
    const std::string filter = std::string("--test-case=") + kRssChildCase;
    execl("/proc/self/exe", "ernie_tests", filter.c_str(), "--no-version", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  std::string result = read_file(tmp.file("rss.txt"));
  uint64_t before = 0, peak = 0;
  REQUIRE(std::sscanf(result.c_str(), "%lu %lu", &before, &peak) == 2);
  const uint64_t growth = peak > before ? peak - before : 0;
  MESSAGE("packing 1.07 GB: RSS before " << before / 1e6 << " MB, peak " << peak / 1e6 << " MB, growth "
                                        << growth / 1e6 << " MB");
  CHECK(growth < 300u * 1000 * 1000);

  // The child's output is a valid, complete file.
  auto pf = PackedFile::open(tmp.file("out.ernie"), true);
  CHECK(pf->file_size() > 1000u * 1000 * 1000);
  check_directory(*pf, cfg);
}
