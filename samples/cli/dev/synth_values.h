// The random weights of a synthetic model (`ernie synth`). Every value is a
// pure function of (seed, canonical tensor name, element or block index), so
// any range can be generated on any thread in any order: the bytes never
// depend on the thread count, and the Hugging Face layout (one tensor per
// expert) holds exactly the values of the packed layout (stacked experts).
//
// Magnitudes are chosen so that a full-depth network stays numerically sane:
// matrices ~N(0, 0.02²) (activations keep unit scale through each product),
// norm weights ~1, router rows ~N(0, 1/H) (router logits of unit spread, so
// top-k choices vary from token to token), correction bias small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/dtype.h"
#include "model/tensor_names.h"

namespace ernie::dev {

// Values of one tensor: mean + sigma * (approximately standard normal).
struct ValueLaw {
  float mean = 0.0f;
  float sigma = 0.02f;
};

ValueLaw value_law(const TensorSpec& spec, const ModelConfig& config);

// The key of a tensor's value stream.
uint64_t tensor_key(uint64_t seed, std::string_view canonical_name);

// Elements [first, first + n) of the tensor as f32.
void synth_floats(uint64_t key, const ValueLaw& law, uint64_t first, size_t n, float* out);

// Blocks [first_block, first_block + n_blocks) of a quantized tensor of type
// `t` (lib/quant/blocks.h), written directly from random codes and f16
// scales (no float round trip) with a zero-mean spread of about law.sigma.
// `out` holds n_blocks * dtype_block_bytes(t) bytes.
void synth_blocks(uint64_t key, DType t, const ValueLaw& law, uint64_t first_block, size_t n_blocks, uint8_t* out);

// Values [first, first + n) of a tensor stored as `t`, as that type's bytes
// (dtype_row_bytes(t, n) of them): floats rounded to f32/f16/bf16, or
// synth_blocks for a quantized type (first and n whole blocks). `scratch`
// holds n floats (unused for quantized types).
void synth_typed(uint64_t key, const ValueLaw& law, DType t, uint64_t first, size_t n, float* scratch, uint8_t* out);

}  // namespace ernie::dev
