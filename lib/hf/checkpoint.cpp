#include "hf/checkpoint.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "hf/name_map.h"
#include "hf/tokenizer_settings.h"
#include "platform/platform.h"
#include "util/checksum.h"
#include "util/error.h"
#include "util/json.h"

namespace ernie {
namespace {

using Json = nlohmann::ordered_json;
using ull = unsigned long long;

constexpr uint64_t kMaxConfigBytes = 16u << 20;
constexpr uint64_t kMaxTokenizerConfigBytes = 64u << 20;
constexpr uint64_t kMaxTokenizerModelBytes = 256u << 20;
constexpr uint64_t kMaxIndexBytes = 64u << 20;
constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Reads a small file of the checkpoint and records it for provenance;
// nullopt when it is absent and optional.
std::optional<std::string> read_checkpoint_file(HfCheckpoint& ck, const char* name, uint64_t max_bytes,
                                                const char* why_required) {
  std::string path = path_join(ck.dir, name);
  if (!path_exists(path)) {
    ERNIE_CHECK(!why_required, ERNIE_E_IO, "checkpoint directory '%s' has no %s (%s)", ck.dir.c_str(), name,
                why_required);
    return std::nullopt;
  }
  std::string text = read_small_file(path, max_bytes);
  ck.small_files.push_back({name, text.size(), crc32c(text.data(), text.size())});
  return text;
}

// One tensor of the checkpoint: which shard, and its header entry.
struct SourceTensor {
  size_t shard;
  const SafetensorsTensor* tensor;
};

bool plain_file_name(const std::string& s) {
  return !s.empty() && s.size() <= 255 && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

// Opens the weights: model.safetensors alone, else the index and its shards.
std::vector<SourceTensor> open_weights(HfCheckpoint& ck) {
  std::vector<SourceTensor> out;
  if (path_exists(path_join(ck.dir, kSingleFile))) {
    ck.shards.emplace_back(path_join(ck.dir, kSingleFile));
    for (const auto& t : ck.shards[0].tensors()) out.push_back({0, &t});
    return out;
  }
  auto index_text = read_checkpoint_file(ck, kIndexFile, kMaxIndexBytes, nullptr);
  ERNIE_CHECK(index_text.has_value(), ERNIE_E_IO, "checkpoint directory '%s' has neither %s nor %s", ck.dir.c_str(),
              kSingleFile, kIndexFile);
  Json index = parse_json(*index_text, kIndexFile);
  index_text.reset();
  auto map = index.is_object() ? index.find("weight_map") : index.end();
  ERNIE_CHECK(map != index.end() && map->is_object(), ERNIE_E_INVALID_MODEL, "%s: no 'weight_map' object",
              kIndexFile);

  std::map<std::string, size_t> shard_of_name;  // sorted: shard order is deterministic
  for (const auto& [tensor, file] : map->items()) {
    ERNIE_CHECK(file.is_string() && plain_file_name(file.get<std::string>()), ERNIE_E_INVALID_MODEL,
                "%s: tensor '%s' must map to a file name inside the checkpoint directory", kIndexFile,
                tensor.c_str());
    shard_of_name.emplace(file.get<std::string>(), 0);
  }
  for (auto& [file, position] : shard_of_name) {
    std::string path = path_join(ck.dir, file);
    ERNIE_CHECK(path_exists(path), ERNIE_E_IO, "shard '%s' named in %s is missing from '%s'", file.c_str(),
                kIndexFile, ck.dir.c_str());
    position = ck.shards.size();
    ck.shards.emplace_back(path);
  }
  for (const auto& [tensor, file] : map->items()) {
    size_t shard = shard_of_name.at(file.get<std::string>());
    const SafetensorsTensor* t = ck.shards[shard].find(tensor);
    ERNIE_CHECK(t != nullptr, ERNIE_E_INVALID_MODEL, "%s maps tensor '%s' to '%s', which does not contain it",
                kIndexFile, tensor.c_str(), file.get_ref<const std::string&>().c_str());
    out.push_back({shard, t});
  }
  return out;
}

// Where one mapping target lands in its canonical tensor.
struct TargetGeometry {
  uint64_t rows, cols, dst_element;
};

class TensorMapper {
 public:
  TensorMapper(HfCheckpoint& ck, const Logger& log) : ck_(ck), log_(log) {
    for (TensorSpec& spec : expected_tensors(ck.config)) {
      by_name_.emplace(spec.name, ck.tensors.size());
      ck.tensors.push_back({std::move(spec), {}});
    }
  }

  void add(const SourceTensor& src) {
    const SafetensorsTensor& t = *src.tensor;
    const char* n = t.name.c_str();
    auto m = map_hf_name(t.name);
    ERNIE_CHECK(m.has_value(), ERNIE_E_INVALID_MODEL,
                "unexpected tensor '%s' in '%s': not a tensor of an ERNIE 4.5 checkpoint", n,
                ck_.shards[src.shard].path().c_str());
    if (m->ignored) return ignore(t.name, "multi-token prediction");
    if (m->targets[0].canonical == "output" && ck_.config.tie_word_embeddings) {
      return ignore(t.name, "tie_word_embeddings is true: the output head is the embedding");
    }
    note_prefix(t.name);
    ERNIE_CHECK(t.dtype.has_value(), ERNIE_E_UNSUPPORTED,
                "tensor '%s' in '%s' has dtype %s; only BF16, F16 and F32 are supported", n,
                ck_.shards[src.shard].path().c_str(), t.dtype_name.c_str());

    std::vector<TargetGeometry> geometry;
    uint64_t rows = 0;
    for (const HfTarget& target : m->targets) {
      geometry.push_back(locate(target, t.name));
      rows += geometry.back().rows;
      ERNIE_CHECK(geometry.back().cols == geometry[0].cols, ERNIE_E_INTERNAL, "fused parts of '%s' differ in width", n);
    }
    check_shape(t, m->targets, rows, geometry[0].cols);

    const uint64_t element_bytes = dtype_row_bytes(*t.dtype, 1);
    uint64_t cursor = 0;  // source elements consumed
    for (size_t i = 0; i < geometry.size(); ++i) {
      SourcePiece p;
      p.shard = src.shard;
      p.offset = t.offset + cursor * element_bytes;
      p.dtype = *t.dtype;
      p.elements = geometry[i].rows * geometry[i].cols;
      p.dst_element = geometry[i].dst_element;
      p.source = t.name;
      cursor += p.elements;
      ck_.tensors[by_name_.at(m->targets[i].canonical)].pieces.push_back(std::move(p));
    }
  }

  // Every canonical tensor is filled exactly once (the router bias may be
  // absent entirely: zeros).
  void finish() {
    for (CanonicalTensor& c : ck_.tensors) {
      auto& pieces = c.pieces;
      std::sort(pieces.begin(), pieces.end(),
                [](const SourcePiece& a, const SourcePiece& b) { return a.dst_element < b.dst_element; });
      if (pieces.empty() && c.spec.name.ends_with(".moe_router_bias")) {
        log_.log(ERNIE_LOG_WARN, "checkpoint has no " + hf_name_for(c.spec.name, -1, prefix_) + ": " +
                                     c.spec.name + " is all zeros");
        continue;
      }
      uint64_t next = 0;
      for (size_t i = 0; i < pieces.size(); ++i) {
        ERNIE_CHECK(pieces[i].dst_element >= next, ERNIE_E_INVALID_MODEL,
                    "checkpoint provides %s twice: by '%s' and by '%s'", c.spec.name.c_str(),
                    pieces[i - 1].source.c_str(), pieces[i].source.c_str());
        if (pieces[i].dst_element > next) missing(c, next);
        next = pieces[i].dst_element + pieces[i].elements;
      }
      if (next < c.elements()) missing(c, next);
    }
  }

 private:
  void ignore(const std::string& name, const char* why) {
    ck_.ignored.push_back(name);
    log_.log(ERNIE_LOG_DEBUG, "ignoring tensor '" + name + "' (" + why + ")");
  }

  void note_prefix(const std::string& name) {
    if (!prefix_seen_ && (name.starts_with("model.") || name.starts_with("ernie."))) {
      prefix_ = name.substr(0, 6);
      prefix_seen_ = true;
    }
  }

  TargetGeometry locate(const HfTarget& target, const std::string& source) {
    auto it = by_name_.find(target.canonical);
    ERNIE_CHECK(it != by_name_.end(), ERNIE_E_INVALID_MODEL,
                "unexpected tensor '%s': this model has no %s per config.json (a layer beyond num_hidden_layers, "
                "or a dense tensor in a MoE layer or the reverse)",
                source.c_str(), target.canonical.c_str());
    const std::vector<int64_t>& s = ck_.tensors[it->second].spec.shape;
    if (target.slice >= 0) {
      ERNIE_CHECK(s.size() == 3 && target.slice < s[0], ERNIE_E_INVALID_MODEL,
                  "unexpected tensor '%s': expert %lld does not exist (moe_num_experts is %lld)", source.c_str(),
                  static_cast<long long>(target.slice), static_cast<long long>(s.size() == 3 ? s[0] : 0));
      uint64_t rows = static_cast<uint64_t>(s[1]), cols = static_cast<uint64_t>(s[2]);
      return {rows, cols, static_cast<uint64_t>(target.slice) * rows * cols};
    }
    if (s.size() == 1) return {1, static_cast<uint64_t>(s[0]), 0};
    return {static_cast<uint64_t>(s[0]), static_cast<uint64_t>(s[1]), 0};
  }

  void check_shape(const SafetensorsTensor& t, const std::vector<HfTarget>& targets, uint64_t rows, uint64_t cols) {
    const TensorSpec& first = ck_.tensors[by_name_.at(targets[0].canonical)].spec;
    std::vector<int64_t> expected;
    if (targets.size() == 1 && targets[0].slice < 0) {
      expected = first.shape;
      // The correction bias is stored [1, E] in Hugging Face checkpoints.
      if (first.shape.size() == 1 && t.shape.size() == 2 && t.shape[0] == 1) expected.insert(expected.begin(), 1);
    } else {
      expected = {static_cast<int64_t>(rows), static_cast<int64_t>(cols)};
    }
    ERNIE_CHECK(t.shape == expected, ERNIE_E_INVALID_MODEL, "tensor '%s' has shape %s, expected %s from config.json",
                t.name.c_str(), shape_string(t.shape).c_str(), shape_string(expected).c_str());
  }

  [[noreturn]] void missing(const CanonicalTensor& c, uint64_t element) {
    int64_t slice = -1;
    if (c.spec.shape.size() == 3) slice = static_cast<int64_t>(element / (c.elements() / c.spec.shape[0]));
    ERNIE_FAIL(ERNIE_E_INVALID_MODEL, "checkpoint has no tensor '%s' (needed for %s)",
               hf_name_for(c.spec.name, slice, prefix_).c_str(), c.spec.name.c_str());
  }

  HfCheckpoint& ck_;
  const Logger& log_;
  std::unordered_map<std::string, size_t> by_name_;
  std::string prefix_ = "model.";
  bool prefix_seen_ = false;
};

}  // namespace

uint64_t CanonicalTensor::elements() const {
  uint64_t n = 1;
  for (int64_t d : spec.shape) n *= static_cast<uint64_t>(d);
  return n;
}

HfCheckpoint open_hf_checkpoint(const std::string& dir, const Logger& log) {
  ERNIE_CHECK(is_directory(dir), ERNIE_E_IO, "checkpoint directory '%s' does not exist or is not a directory",
              dir.c_str());
  HfCheckpoint ck;
  ck.dir = dir;
  auto config_text = read_checkpoint_file(ck, "config.json", kMaxConfigBytes, "the model configuration is required");
  ck.config = ModelConfig::from_json(parse_json(*config_text, "config.json"));

  auto tokenizer = read_checkpoint_file(ck, "tokenizer.model", kMaxTokenizerModelBytes,
                                        "the SentencePiece tokenizer model is required");
  ck.tokenizer_model = std::move(*tokenizer);
  Json tokenizer_config;  // null when absent
  if (auto text = read_checkpoint_file(ck, "tokenizer_config.json", kMaxTokenizerConfigBytes, nullptr)) {
    tokenizer_config = parse_json(*text, "tokenizer_config.json");
  }
  auto jinja = read_checkpoint_file(ck, "chat_template.jinja", kMaxConfigBytes, nullptr);
  TokenizerSettings settings = tokenizer_settings(tokenizer_config, jinja, ck.config.vocab_size);
  ck.tokenizer = std::move(settings.metadata);
  ck.chat_template = std::move(settings.chat_template);

  std::vector<SourceTensor> sources = open_weights(ck);
  TensorMapper mapper(ck, log);
  for (const SourceTensor& s : sources) mapper.add(s);
  mapper.finish();
  if (!ck.ignored.empty()) {
    log.log(ERNIE_LOG_INFO, strfmt("ignored %zu checkpoint tensors (multi-token prediction or tied output head)",
                                   ck.ignored.size()));
  }
  return ck;
}

}  // namespace ernie
