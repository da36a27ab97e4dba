// q4x8: q4 blocks of 8 rows interleaved (blocks.h). Quantizing and
// dequantizing go through q4 row by row and q4x8_layout.h's byte moves.
#include <cstring>

#include "quant/block_codecs.h"
#include "quant/blocks.h"
#include "quant/q4x8_layout.h"

namespace ernie::quant {

// One group: 8 rows of `blocks / 8` super-blocks each, row after row in
// src (quantize) and dst (dequantize).
void quantize_q4x8(const float* src, uint8_t* dst, int64_t blocks) {
  const int64_t nsb = blocks / kQ4X8Rows;
  uint8_t rows[kQ4X8Rows * sizeof(BlockQ4)];
  for (int64_t sb = 0; sb < nsb; ++sb) {
    for (int r = 0; r < kQ4X8Rows; ++r) {
      quantize_q4(src + (r * nsb + sb) * kSuperBlockValues, rows + r * sizeof(BlockQ4), 1);
    }
    interleave_q4x8(rows, 1, dst + sb * sizeof(BlockQ4X8));
  }
}

void dequantize_q4x8(const uint8_t* src, float* dst, int64_t blocks) {
  const int64_t nsb = blocks / kQ4X8Rows;
  uint8_t rows[kQ4X8Rows * sizeof(BlockQ4)];
  for (int64_t sb = 0; sb < nsb; ++sb) {
    deinterleave_q4x8(src + sb * sizeof(BlockQ4X8), 1, rows);
    for (int r = 0; r < kQ4X8Rows; ++r) {
      dequantize_q4(rows + r * sizeof(BlockQ4), dst + (r * nsb + sb) * kSuperBlockValues, 1);
    }
  }
}

}  // namespace ernie::quant
