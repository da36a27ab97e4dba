// A Hugging Face ERNIE 4.5 checkpoint directory, opened and checked against
// its config.json without reading any weights: every canonical packed tensor
// (model/tensor_names.h) is described by the byte ranges ("pieces") of the
// safetensors files that make it up, so the packer can stream it. Policies
// (which files, fused names, ignored tensors, absent router bias) are in
// docs/pack.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/dtype.h"
#include "hf/safetensors.h"
#include "model/config.h"
#include "model/tensor_names.h"
#include "util/logger.h"

namespace ernie {

// A contiguous run of source elements that fills part of a canonical tensor.
struct SourcePiece {
  size_t shard = 0;          // index into HfCheckpoint::shards
  uint64_t offset = 0;       // absolute byte offset in that file
  DType dtype = DType::F32;  // its dtype in the checkpoint
  uint64_t elements = 0;
  uint64_t dst_element = 0;  // first element it fills in the canonical tensor
  std::string source;        // the safetensors tensor name, for messages
};

struct CanonicalTensor {
  TensorSpec spec;
  // Sorted by dst_element; together they fill the tensor exactly once.
  // Empty for a tensor the checkpoint may omit (the MoE router bias): zeros.
  std::vector<SourcePiece> pieces;
  uint64_t elements() const;
};

// A small file read whole (config, tokenizer files, index), for provenance.
struct SourceFile {
  std::string name;  // relative to the checkpoint directory
  uint64_t size = 0;
  uint32_t crc32c = 0;
};

struct HfCheckpoint {
  std::string dir;
  ModelConfig config;
  std::vector<SafetensorsFile> shards;   // sorted by file name
  std::vector<CanonicalTensor> tensors;  // in expected_tensors(config) order
  std::string tokenizer_model;           // bytes of tokenizer.model
  nlohmann::ordered_json tokenizer;      // the metadata "tokenizer" object
  std::string chat_template;             // "" when none
  std::vector<SourceFile> small_files;   // in the order read
  std::vector<std::string> ignored;      // checkpoint tensors not packed (MTP, tied lm_head)
};

// Opens and validates `dir`. Throws ernie::Error: ERNIE_E_IO (missing
// directory, config.json, tokenizer.model, weights or a shard the index
// names), ERNIE_E_INVALID_MODEL (bad config, unknown tensor, wrong shape,
// missing or duplicated tensor), ERNIE_E_UNSUPPORTED (architecture or dtype).
HfCheckpoint open_hf_checkpoint(const std::string& dir, const Logger& log = {});

}  // namespace ernie
