// The Hugging Face checkpoint form of `ernie synth` (synth_model.h): bf16
// weights (router and correction bias f32, as ERNIE checkpoints ship them),
// one safetensors tensor per expert, names from hf/name_map.h.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include "dev/parallel_tasks.h"
#include "dev/synth_model.h"
#include "dev/synth_presets.h"
#include "dev/synth_tokenizer.h"
#include "dev/synth_values.h"
#include "hf/name_map.h"
#include "platform/platform.h"
#include "util/error.h"

namespace ernie::dev {
namespace {

constexpr uint64_t kShardBytes = 5'000'000'000;  // Hugging Face's usual shard size
constexpr uint64_t kChunkValues = uint64_t{1} << 20;

struct HfTensor {
  std::string name;
  DType type;
  std::vector<int64_t> shape;
  const TensorSpec* spec;  // the canonical tensor holding its values
  uint64_t first = 0;      // its first element in the canonical tensor
  uint64_t values = 0;
  size_t shard = 0;
  uint64_t offset = 0;     // in the shard's data section
};

std::vector<HfTensor> hf_tensors(const std::vector<TensorSpec>& specs) {
  std::vector<HfTensor> out;
  for (const TensorSpec& s : specs) {
    const DType type = s.role == TensorRole::Router ? DType::F32 : DType::BF16;
    if (s.shape.size() == 3) {  // stacked routed experts: one tensor per expert
      const uint64_t per = static_cast<uint64_t>(s.shape[1] * s.shape[2]);
      for (int64_t e = 0; e < s.shape[0]; ++e) {
        out.push_back({hf_name_for(s.name, e), type, {s.shape[1], s.shape[2]}, &s, e * per, per});
      }
      continue;
    }
    uint64_t n = 1;
    for (int64_t d : s.shape) n *= static_cast<uint64_t>(d);
    std::vector<int64_t> shape = s.shape;
    if (s.role == TensorRole::Router && shape.size() == 1) shape.insert(shape.begin(), 1);  // bias is [1, E]
    out.push_back({hf_name_for(s.name, -1), type, shape, &s, 0, n});
  }
  return out;
}

std::string shard_name(size_t k, size_t n) { return strfmt("model-%05zu-of-%05zu.safetensors", k + 1, n); }

// The safetensors header: JSON padded with spaces to a multiple of 8 bytes.
std::string shard_header(const std::vector<HfTensor>& tensors, size_t shard) {
  Json h;
  h["__metadata__"] = {{"format", "pt"}};
  for (const HfTensor& t : tensors) {
    if (t.shard != shard) continue;
    const uint64_t bytes = dtype_row_bytes(t.type, t.values);
    h[t.name] = {{"dtype", t.type == DType::F32 ? "F32" : "BF16"},
                 {"shape", t.shape},
                 {"data_offsets", {t.offset, t.offset + bytes}}};
  }
  std::string text = h.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

void write_whole_file(const std::string& path, const std::string& bytes) {
  File f(path, File::Mode::WriteNew);
  f.write_at(0, bytes.data(), bytes.size());
}

}  // namespace

void write_synth_hf(const std::string& dir, const SynthOptions& opt) {
  ERNIE_CHECK(!opt.recipe, ERNIE_E_INVALID_ARGUMENT, "synth: a Hugging Face checkpoint is bf16; it has no recipe");
  const Json config_json = synth_preset_config_json(opt.preset);
  const ModelConfig config = ModelConfig::from_json(config_json);
  const std::vector<TensorSpec> specs = expected_tensors(config);
  std::vector<HfTensor> tensors = hf_tensors(specs);

  // Shards in tensor order, each up to kShardBytes.
  std::vector<uint64_t> shard_bytes = {0};
  uint64_t total = 0;
  for (HfTensor& t : tensors) {
    const uint64_t bytes = dtype_row_bytes(t.type, t.values);
    if (shard_bytes.back() > 0 && shard_bytes.back() + bytes > kShardBytes) shard_bytes.push_back(0);
    t.shard = shard_bytes.size() - 1;
    t.offset = shard_bytes.back();
    shard_bytes.back() += bytes;
    total += bytes;
  }
  const size_t n_shards = shard_bytes.size();

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ERNIE_CHECK(!ec && is_directory(dir), ERNIE_E_IO, "synth: cannot create directory '%s': %s", dir.c_str(),
              ec.message().c_str());
  std::vector<std::unique_ptr<File>> shards;
  std::vector<uint64_t> data_start;
  Json weight_map = Json::object();
  for (size_t k = 0; k < n_shards; ++k) {
    shards.push_back(std::make_unique<File>(path_join(dir, shard_name(k, n_shards)), File::Mode::WriteNew));
    const std::string header = shard_header(tensors, k);
    uint8_t len[8];
    for (int b = 0; b < 8; ++b) len[b] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * b));
    shards[k]->write_at(0, len, 8);
    shards[k]->write_at(8, header.data(), header.size());
    data_start.push_back(8 + header.size());
  }
  for (const HfTensor& t : tensors) weight_map[t.name] = shard_name(t.shard, n_shards);

  ProgressMeter meter(total, opt.progress);
  ThreadPool pool(opt.n_threads > 0 ? opt.n_threads : physical_core_count());
  struct Buffers {
    std::vector<float> scratch;
    std::vector<uint8_t> bytes;
  };
  std::vector<Buffers> buffers(static_cast<size_t>(pool.size()));
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tensors[a].values > tensors[b].values; });
  run_tasks(pool, static_cast<int64_t>(tensors.size()), [&](int64_t task, int thread) {
    const HfTensor& t = tensors[order[static_cast<size_t>(task)]];
    const uint64_t key = tensor_key(opt.seed, t.spec->name);
    const ValueLaw law = value_law(*t.spec, config);
    Buffers& buf = buffers[static_cast<size_t>(thread)];
    const uint64_t chunk = std::min(t.values, kChunkValues);
    buf.scratch.resize(chunk);
    buf.bytes.resize(dtype_row_bytes(DType::F32, chunk));
    uint64_t at = data_start[t.shard] + t.offset;
    for (uint64_t done = 0; done < t.values; done += chunk) {
      const size_t n = static_cast<size_t>(std::min(chunk, t.values - done));
      synth_typed(key, law, t.type, t.first + done, n, buf.scratch.data(), buf.bytes.data());
      const uint64_t bytes = dtype_row_bytes(t.type, n);
      shards[t.shard]->write_at(at, buf.bytes.data(), bytes);
      at += bytes;
      meter.add(bytes);
    }
  });
  for (auto& f : shards) f->sync();

  Json index = {{"metadata", {{"total_size", total}}}, {"weight_map", std::move(weight_map)}};
  write_whole_file(path_join(dir, "model.safetensors.index.json"), index.dump(2) + "\n");
  write_whole_file(path_join(dir, "config.json"), config_json.dump(2) + "\n");
  write_whole_file(path_join(dir, "tokenizer_config.json"), synth_tokenizer_config().dump(2) + "\n");
  write_whole_file(path_join(dir, "tokenizer.model"), synth_tokenizer_model(config.vocab_size));
}

}  // namespace ernie::dev
