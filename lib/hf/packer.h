// Packing a Hugging Face ERNIE 4.5 checkpoint into one packed model file
// (docs/pack.md). Tensors are streamed through bounded per-thread buffers
// with positional reads and writes, so memory stays small (well under
// 300 MB) whatever the checkpoint's size; the output appears atomically.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "format/dtype.h"
#include "hf/checkpoint.h"
#include "quant/recipe.h"
#include "util/logger.h"

namespace ernie {

struct PackOptions {
  std::optional<DType> type;             // storage type of weight matrices; nullopt = keep the checkpoint's
  std::optional<quant::Recipe> recipe;   // a type per tensor role instead (overrides `type`)
  int n_threads = 0;                     // 0 = physical cores (at most 8: packing is I/O bound)
  std::function<bool(float)> progress;   // fraction of bytes done; false cancels. Called on the calling thread.
  Logger log;
};

// Writes `out_path` from the checkpoint in `hf_dir`. Throws ernie::Error (see
// open_hf_checkpoint; ERNIE_E_IO when the output cannot be written;
// ERNIE_E_CANCELLED when progress returns false). On any failure nothing is
// left at out_path (an existing file there is untouched) and no temp file.
void pack_checkpoint(const std::string& hf_dir, const std::string& out_path, const PackOptions& options = {});

// The storage type of a canonical tensor (policy in docs/pack.md): the router
// and its bias are always f32; with a recipe, quant::recipe_dtype decides;
// with a requested type, norms are f32 and every other tensor takes it;
// without, a tensor keeps its checkpoint dtype (f32 when its pieces
// disagree, or when it has none).
DType packed_dtype(const CanonicalTensor& tensor, const PackOptions& options);

}  // namespace ernie
