// Quantization and its scalar reference inverse for the block types of
// blocks.h. quantize_row chooses, per block, the scales (and mins) that
// minimise the squared error of the reconstruction; dequantize_row is the
// definition every fast kernel is tested against.
#pragma once

#include <cstdint>

#include "format/dtype.h"

namespace ernie::quant {

// `n` values, a whole number of blocks of `t` (dtype_block_values). `dst`
// holds dtype_row_bytes(t, n) bytes. Non-finite inputs are treated as 0.
void quantize_row(DType t, const float* src, void* dst, int64_t n);
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

// Activation quantization (ActRowA8 in blocks.h): `n` a multiple of 32;
// q[n], d[n / 32], s16[n / 16], ds[n / 32]. Each 32 values share
// d = max|x| / 127 and codes round to nearest.
void quantize_acts(const float* x, int64_t n, int8_t* q, float* d, int16_t* s16, float* ds);

}  // namespace ernie::quant
