// Storage types of tensors in the packed format. Numbering is part of the
// file format (docs/format.md): never renumber; quantized types take 16+.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ernie {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  BF16 = 2,
  Q8 = 16,  // lib/quant/blocks.h has the block layouts of the quantized types
  Q6 = 17,
  Q4 = 18,
  Q2 = 19,
  Q4X8 = 20,  // q4 with 8 rows' super-blocks interleaved (blocks.h)
};

// True for the block-quantized types (Q8, Q6, Q4, Q2, Q4X8).
bool dtype_is_quantized(DType t);
// Values per block: 1 for f32/f16/bf16, 32 for q8, 256 for q6/q4/q2/q4x8.
uint64_t dtype_block_values(DType t);
// Bytes per block (per value for the float types; for q4x8 per row's block).
uint64_t dtype_block_bytes(DType t);
// Rows stored together: 8 for q4x8 (a tensor's rows must be a multiple and
// a row's bytes are spread over its group), 1 for every other type.
uint64_t dtype_row_group(DType t);
// Parses a name written by dtype_name; false if unknown.
bool dtype_from_name(const char* name, DType* out);

// Name as written in docs and CLI output ("f32", "f16", "bf16", "q8", ...); "?" if unknown.
const char* dtype_name(DType t);
// True for a value this build knows (a file may name a type from the future).
bool dtype_known(uint32_t raw);
// Bytes of one row of `cols` elements; 0 if `cols` is not a valid row length
// for the type (quantized types need whole blocks).
uint64_t dtype_row_bytes(DType t, uint64_t cols);

// Scalar conversions (round to nearest even, NaN preserved).
float bf16_to_f32(uint16_t v);
uint16_t f32_to_bf16(float v);
float f16_to_f32(uint16_t v);
uint16_t f32_to_f16(float v);

// Converts `n` elements of `src` (type `from`) to f32; for a quantized type
// `n` must be a whole number of blocks (the scalar dequantize reference).
// For q4x8, `n` values are one group of 8 rows of n / 8 values, and dst gets
// them row after row.
void convert_to_f32(DType from, const void* src, float* dst, size_t n);
// Converts `n` f32 elements to `to`; for a quantized type `n` must be a whole
// number of blocks (quant::quantize_row).
void convert_from_f32(DType to, const float* src, void* dst, size_t n);

}  // namespace ernie
