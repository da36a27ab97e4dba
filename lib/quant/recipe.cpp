#include "quant/recipe.h"

namespace ernie::quant {
namespace {

// The preferred type per role; the table is the recipe. Chosen by measuring
// KL divergence against the float64 reference on golden/small-moe
// (docs/quantization.md has the figures): errors in the embeddings, the
// dense MLP and attention reach every token, so they get more bits than the
// routed experts, which each see a fraction of the tokens.
DType preferred(Recipe r, TensorRole role) {
  switch (r) {
    case Recipe::Q8:
      switch (role) {
        case TensorRole::Embedding:
        case TensorRole::DenseMlp: return DType::F16;
        default: return DType::Q8;
      }
    case Recipe::Q6:
      return role == TensorRole::Embedding ? DType::Q8 : DType::Q6;
    case Recipe::Q4:
      switch (role) {
        case TensorRole::Embedding:
        case TensorRole::OutputHead:
        case TensorRole::Attention: return DType::Q6;
        default: return DType::Q4;
      }
    case Recipe::Q2:
      switch (role) {
        case TensorRole::OutputHead: return DType::Q6;
        case TensorRole::Embedding:
        case TensorRole::Attention: return DType::Q4;
        default: return DType::Q2;
      }
  }
  return DType::Q8;
}

// Wider types to fall back to, in order, when rows don't fit the blocks.
DType fitting(DType want, int64_t cols) {
  const DType order[] = {DType::Q2, DType::Q4, DType::Q6, DType::Q8};
  bool reached = false;
  for (DType t : order) {
    reached = reached || t == want;
    if (reached && cols % static_cast<int64_t>(dtype_block_values(t)) == 0) return t;
  }
  return DType::BF16;
}

}  // namespace

const char* recipe_name(Recipe r) {
  switch (r) {
    case Recipe::Q8: return "q8";
    case Recipe::Q6: return "q6";
    case Recipe::Q4: return "q4";
    case Recipe::Q2: return "q2";
  }
  return "?";
}

std::optional<Recipe> recipe_from_name(const std::string& name) {
  for (Recipe r : {Recipe::Q8, Recipe::Q6, Recipe::Q4, Recipe::Q2}) {
    if (name == recipe_name(r)) return r;
  }
  return std::nullopt;
}

DType recipe_dtype(Recipe r, TensorRole role, int64_t rows, int64_t cols) {
  if (role == TensorRole::Norm || role == TensorRole::Router) return DType::F32;
  const DType want = preferred(r, role);
  if (!dtype_is_quantized(want)) return want;
  const DType t = fitting(want, cols);
  // q4 matrices are stored as q4x8 (the same values, 8 rows interleaved for
  // the decode kernels) when their rows come in whole groups; embeddings
  // stay q4, since a lookup reads one row.
  if (t == DType::Q4 && role != TensorRole::Embedding && rows % static_cast<int64_t>(dtype_row_group(DType::Q4X8)) == 0) {
    return DType::Q4X8;
  }
  return t;
}

}  // namespace ernie::quant
