// `ernie synth`: a model with real shapes and random weights, written without
// any checkpoint, either as a packed file (any recipe, quantized blocks
// written directly) or as a Hugging Face bf16 checkpoint directory (to
// measure `ernie pack` itself at full scale). Values come from
// synth_values.h, so the bytes depend only on preset, recipe and seed, and
// the bf16 packed file holds the same tensors as the packed hf checkpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "model/config.h"
#include "quant/recipe.h"

namespace ernie::dev {

struct SynthOptions {
  std::string preset = "tiny";           // synth_presets.h
  std::optional<quant::Recipe> recipe;   // nullopt: bf16 weights (router f32)
  uint64_t seed = 1;
  int n_threads = 0;                     // 0 = physical cores
  std::function<void(float)> progress;   // fraction of bytes written; called under a lock, any thread
};

// The storage type of a tensor under `recipe` (nullopt: bf16, router f32).
DType synth_dtype(const std::optional<quant::Recipe>& recipe, const TensorSpec& spec);

// Writes a packed model to `path` (atomically, like ernie pack). Throws
// ernie::Error (ERNIE_E_INVALID_ARGUMENT for a bad preset, ERNIE_E_IO).
void write_synth_packed(const std::string& path, const SynthOptions& options);

// Writes a Hugging Face checkpoint into directory `dir` (created if needed):
// config.json, tokenizer.model, tokenizer_config.json,
// model-0000K-of-0000N.safetensors shards and model.safetensors.index.json.
// options.recipe must be empty (the checkpoint is bf16, router f32).
void write_synth_hf(const std::string& dir, const SynthOptions& options);

}  // namespace ernie::dev
