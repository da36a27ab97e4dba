// `ernie bench --quality`: how far a packed (possibly quantized) model is from
// the Hugging Face checkpoint it came from (docs/bench.md). Logits are
// compared with the checkpoint's float64 golden logits (golden/cases.json,
// ERNIE45.md §9); every tensor is compared with its checkpoint source.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/dtype.h"

namespace ernie::dev {

struct TensorSnr {
  std::string name;  // canonical packed name
  DType type = DType::F32;
  double snr_db = 0;  // 10 log10(sum ref² / sum (ref - packed)²); +inf when identical
};

struct QualityReport {
  double mean_kl = 0;        // mean over all positions of KL(ref || model), nats
  double top1 = 0;           // fraction of positions whose argmax agrees
  double max_abs_diff = 0;   // largest |model - ref| logit
  int64_t positions = 0;
  uint64_t file_bytes = 0;   // of the packed model
  std::vector<TensorSnr> tensors;  // in the packed file's canonical order
};

// Throws ernie::Error: ERNIE_E_IO / ERNIE_E_INVALID_MODEL for a missing or
// malformed reference (cases.json, logits files of the wrong size, a tensor
// absent from the model) and any status the model's evaluation returns.
QualityReport measure_quality(const std::string& model_path, const std::string& ref_dir, int n_threads);

}  // namespace ernie::dev
