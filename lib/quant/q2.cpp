// q2: 256 values in 16 sub-blocks of 16, value = d * sc[j] * q - dmin * m[j]
// with 2-bit codes and 4-bit sc, m (blocks.h has the byte layout).
#include <cstring>

#include "quant/affine_superblock.h"
#include "quant/block_codecs.h"
#include "quant/block_math.h"

namespace ernie::quant {
namespace {

// Only 4 codes: a finer search of the sub-block scale pays off.
constexpr AffineLayout kLayout{16, 3, 15, {-0.5f, 0.2f, 6}};
// Largest magnitudes q2 reconstructs: d * 15 * 3 above 0, dmin * 15 below.
constexpr float kMaxPositive = kF16Max * 15 * 3;
constexpr float kMaxNegative = kF16Max * 15;

BlockQ2 pack(const AffineSuperBlock& sb) {
  BlockQ2 b{};
  b.d = sb.d;
  b.dmin = sb.dmin;
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<uint8_t>(sb.sc[j] | sb.m[j] << 4);
  for (int h = 0; h < 2; ++h) {
    for (int i = 0; i < 32; ++i) {
      int byte = 0;
      for (int k = 0; k < 4; ++k) byte |= sb.codes[128 * h + 32 * k + i] << (2 * k);
      b.qs[32 * h + i] = static_cast<uint8_t>(byte);
    }
  }
  return b;
}

}  // namespace

void quantize_q2(const float* src, uint8_t* dst, int64_t blocks) {
  float x[kSuperBlockValues];
  AffineSuperBlock sb;
  for (int64_t blk = 0; blk < blocks; ++blk) {
    sanitize_block(src + blk * kSuperBlockValues, x, kSuperBlockValues, -kMaxNegative, kMaxPositive);
    quantize_affine_superblock(x, kLayout, &sb);
    const BlockQ2 b = pack(sb);
    std::memcpy(dst + blk * sizeof(BlockQ2), &b, sizeof b);
  }
}

void dequantize_q2(const uint8_t* src, float* dst, int64_t blocks) {
  for (int64_t blk = 0; blk < blocks; ++blk) {
    BlockQ2 b;
    std::memcpy(&b, src + blk * sizeof(BlockQ2), sizeof b);
    const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
    float* out = dst + blk * kSuperBlockValues;
    for (int v = 0; v < kSuperBlockValues; ++v) {
      const int sc = b.scales[v / 16] & 15, m = b.scales[v / 16] >> 4;
      // value 128h + 32k + i is bits 2k..2k+1 of qs[32h + i]
      const int q = (b.qs[32 * (v / 128) + v % 32] >> (2 * ((v % 128) / 32))) & 3;
      out[v] = d * sc * q - dmin * m;
    }
  }
}

}  // namespace ernie::quant
