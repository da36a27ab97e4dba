// The common core of q4 and q2: a 256-value super-block of sub-blocks with
// value = d * sc[j] * q - dmin * m[j], where d and dmin are f16 and sc, m are
// small unsigned integers. This chooses all of them to minimise the squared
// error; q4.cpp and q2.cpp only pack the result into their byte layouts.
#pragma once

#include <cstdint>

#include "quant/blocks.h"
#include "quant/subblock_fit.h"

namespace ernie::quant {

struct AffineLayout {
  int sub_values;     // values per sub-block (32 for q4, 16 for q2)
  int nmax;           // largest code (15, 3)
  int max_sub_scale;  // largest sc / m (63, 15)
  AffineSearch search;
};

struct AffineSuperBlock {
  uint16_t d = 0;
  uint16_t dmin = 0;
  uint8_t sc[16] = {};
  uint8_t m[16] = {};
  uint8_t codes[kSuperBlockValues] = {};
};

// `x`: 256 sanitized values (block_math.h).
void quantize_affine_superblock(const float* x, const AffineLayout& layout, AffineSuperBlock* out);

}  // namespace ernie::quant
