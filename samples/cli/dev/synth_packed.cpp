// The packed-file form of `ernie synth` (synth_model.h).
#include <algorithm>
#include <vector>

#include "dev/parallel_tasks.h"
#include "dev/synth_model.h"
#include "dev/synth_presets.h"
#include "dev/synth_tokenizer.h"
#include "dev/synth_values.h"
#include "format/packed_writer.h"
#include "hf/tokenizer_settings.h"
#include "platform/platform.h"
#include "util/error.h"

namespace ernie::dev {
namespace {

// Values generated per write: a whole number of blocks of every type.
constexpr uint64_t kChunkValues = uint64_t{1} << 20;

Json synth_metadata(const ModelConfig& config, const SynthOptions& opt, const std::vector<PackedTensorDesc>& descs) {
  TokenizerSettings tok = tokenizer_settings(synth_tokenizer_config(), std::nullopt, config.vocab_size);
  Json types = Json::object();
  for (const auto& d : descs) {
    std::string name = dtype_name(d.type);
    types[name] = types.value(name, 0) + 1;
  }
  Json m;
  m["format"] = 1;
  m["config"] = config.to_json();
  m["tokenizer"] = tok.metadata;
  m["chat_template"] = tok.chat_template;
  m["provenance"] = {{"packer", strfmt("ernie %d.%d.%d synth", ERNIE_VERSION_MAJOR, ERNIE_VERSION_MINOR,
                                       ERNIE_VERSION_PATCH)},
                     {"synthetic", true},
                     {"preset", opt.preset},
                     {"seed", opt.seed},
                     {"recipe", opt.recipe ? quant::recipe_name(*opt.recipe) : "bf16"},
                     {"note", "random weights, no checkpoint: for benchmarks and tests only"}};
  m["tensor_types"] = std::move(types);
  return m;
}

}  // namespace

DType synth_dtype(const std::optional<quant::Recipe>& recipe, const TensorSpec& spec) {
  if (recipe) return quant::recipe_dtype(*recipe, spec.role, matrix_rows(spec.shape), spec.shape.back());
  return spec.role == TensorRole::Router ? DType::F32 : DType::BF16;
}

void write_synth_packed(const std::string& path, const SynthOptions& opt) {
  const ModelConfig config = ModelConfig::from_json(synth_preset_config_json(opt.preset));
  const std::vector<TensorSpec> specs = expected_tensors(config);
  std::vector<PackedTensorDesc> descs;
  for (const TensorSpec& s : specs) descs.push_back({s.name, synth_dtype(opt.recipe, s), s.shape});

  PackedWriter writer(path, synth_metadata(config, opt, descs), synth_tokenizer_model(config.vocab_size), descs);
  uint64_t total = 0;
  for (size_t i = 0; i < specs.size(); ++i) total += writer.tensor_size(i);
  ProgressMeter meter(total, opt.progress);

  ThreadPool pool(opt.n_threads > 0 ? opt.n_threads : physical_core_count());
  struct Buffers {
    std::vector<float> scratch;
    std::vector<uint8_t> bytes;
  };
  std::vector<Buffers> buffers(static_cast<size_t>(pool.size()));
  // Largest tensors first, so no thread is left alone with a big one at the end.
  std::vector<size_t> order(specs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return writer.tensor_size(a) > writer.tensor_size(b); });

  run_tasks(pool, static_cast<int64_t>(specs.size()), [&](int64_t task, int thread) {
    const size_t i = order[static_cast<size_t>(task)];
    const TensorSpec& spec = specs[i];
    const DType type = descs[i].type;
    const uint64_t key = tensor_key(opt.seed, spec.name);
    const ValueLaw law = value_law(spec, config);
    uint64_t n_values = 1;
    for (int64_t d : spec.shape) n_values *= static_cast<uint64_t>(d);
    Buffers& buf = buffers[static_cast<size_t>(thread)];
    const uint64_t chunk = std::min(n_values, kChunkValues);
    buf.scratch.resize(chunk);
    buf.bytes.resize(dtype_row_bytes(DType::F32, chunk));
    TensorSink sink = writer.begin_tensor(i);
    for (uint64_t first = 0; first < n_values; first += chunk) {
      const size_t n = static_cast<size_t>(std::min(chunk, n_values - first));
      synth_typed(key, law, type, first, n, buf.scratch.data(), buf.bytes.data());
      const uint64_t bytes = dtype_row_bytes(type, n);
      sink.write(buf.bytes.data(), bytes);
      meter.add(bytes);
    }
    sink.end();
  });
  writer.finish();
}

}  // namespace ernie::dev
