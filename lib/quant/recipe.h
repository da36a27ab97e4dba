// Quantization recipes: which storage type each tensor role gets under
// `ernie pack --quant` and `ernie synth --quant` (docs/quantization.md says
// why). Routers and norms always stay f32; a tensor whose rows are not a
// whole number of the chosen type's blocks takes the next wider type that
// fits (q8 needs 32, the others 256), and bf16 when none does.
#pragma once

#include <optional>
#include <string>

#include "format/dtype.h"
#include "model/tensor_names.h"

namespace ernie::quant {

enum class Recipe { Q8, Q6, Q4, Q2 };

const char* recipe_name(Recipe r);                       // "q8", "q6", "q4", "q2"
std::optional<Recipe> recipe_from_name(const std::string& name);

// The storage type of a tensor of `role` whose matrices have `rows` rows of
// `cols` values (q4 becomes q4x8 for matrices of whole 8-row groups, except
// embeddings).
DType recipe_dtype(Recipe r, TensorRole role, int64_t rows, int64_t cols);

}  // namespace ernie::quant
