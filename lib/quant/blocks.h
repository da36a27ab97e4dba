// Byte layouts of the quantized storage types (docs/format.md, "Quantized
// types"). These structs ARE the file format: every field is little-endian,
// there is no padding, and a row of `cols` values is cols / kValuesPerBlock
// consecutive blocks. Scales are IEEE binary16 (f16) bit patterns.
//
// Value formulas (q = the stored unsigned code unless noted):
//   q8: w = d * q                       q int8, blocks of 32
//   q6: w = d * scales[j] * (q - 32)    q 0..63, 16 sub-blocks of 16, scales int8
//   q4: w = d * sc[j] * q - dmin * m[j] q 0..15, 8 sub-blocks of 32, sc/m 6-bit
//   q2: w = d * sc[j] * q - dmin * m[j] q 0..3, 16 sub-blocks of 16, sc/m 4-bit
//
// Code placement inside a 256-value super-block is chosen so that one
// 32-byte load followed by a shift and a mask yields 32 consecutive values:
//   q4.qs[32p + i]: low nibble = value 64p + i, high nibble = value 64p + 32 + i   (p < 4)
//   q6.ql[32p + i]: low 4 bits of value 64p + i (low nibble) and 64p + 32 + i (high nibble)
//   q6.qh[32h + i]: bits 2k..2k+1 = high 2 bits of value 128h + 32k + i            (h < 2, k < 4)
//   q2.qs[32h + i]: bits 2k..2k+1 = code of value 128h + 32k + i                   (h < 2, k < 4)
//   q4.scales (12 bytes): byte j (j < 8): low nibble = sc[j] & 15, high nibble = m[j] & 15;
//     byte 8 + j/2, nibble j%2: bits 0-1 = sc[j] >> 4, bits 2-3 = m[j] >> 4
//   q2.scales[j]: low nibble = sc[j], high nibble = m[j]
//
// q4x8 holds the q4 blocks of 8 consecutive rows (same values, same bits per
// weight) interleaved so that a 32-byte load gives 4 code bytes of each of
// the 8 rows: rows lie in SIMD lanes, as the decode kernels want them
// (docs/kernels.md). Per super-block column of the 8 rows, 1152 bytes:
//   d[r], dmin[r]                    row r's q4 d and dmin
//   scale_lo[j][r]                   row r's scales byte j (j < 8)
//   scale_hi[j/2][r], nibble j%2     row r's byte 8 + j/2, nibble j%2
//                                    (bits 0-1 = sc[j] >> 4, 2-3 = m[j] >> 4)
//   qs[p][k][4r + i]                 row r's qs[32p + 4k + i] (p < 4, k < 8)
// A row group's blocks follow each other along the row; groups follow each
// other in row order.
#pragma once

#include <cstdint>

namespace ernie::quant {

inline constexpr int kQ8BlockValues = 32;
inline constexpr int kSuperBlockValues = 256;

struct BlockQ8 {
  uint16_t d;
  int8_t q[32];
};

struct BlockQ6 {
  uint16_t d;
  int8_t scales[16];
  uint8_t ql[128];
  uint8_t qh[64];
};

struct BlockQ4 {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};

struct BlockQ2 {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[16];
  uint8_t qs[64];
};

inline constexpr int kQ4X8Rows = 8;

struct BlockQ4X8 {
  uint16_t d[8];
  uint16_t dmin[8];
  uint8_t scale_lo[8][8];
  uint8_t scale_hi[4][8];
  uint8_t qs[4][8][32];
};

static_assert(sizeof(BlockQ4X8) == 8 * 144, "q4x8 block is 8 q4 blocks");
static_assert(sizeof(BlockQ8) == 34, "q8 block is 34 bytes (8.5 bits/weight)");
static_assert(sizeof(BlockQ6) == 210, "q6 block is 210 bytes (6.5625 bits/weight)");
static_assert(sizeof(BlockQ4) == 144, "q4 block is 144 bytes (4.5 bits/weight)");
static_assert(sizeof(BlockQ2) == 84, "q2 block is 84 bytes (2.625 bits/weight)");

// q4 sub-block scale and min (6-bit each) of sub-block j < 8.
inline void q4_scale_min(const uint8_t* scales, int j, int* sc, int* m) {
  const uint8_t hi = static_cast<uint8_t>(scales[8 + j / 2] >> (4 * (j % 2)));
  *sc = (scales[j] & 15) | ((hi & 3) << 4);
  *m = (scales[j] >> 4) | (((hi >> 2) & 3) << 4);
}

// Activations quantized once per matrix product and shared by every weight
// row (and every expert): per 32 values an f32 scale, int8 codes, and the sum
// of the codes of each 16 (for the min and offset terms of q6/q4/q2).
// value = d[i / 32] * q[i]; s16[i / 16] = sum of q over that 16;
// ds[i / 32] = d[i / 32] * (sum of q over that 32), rounded once: q4's min
// term is one multiply-add with it instead of an integer product, a
// conversion and a multiply per weight row.
struct ActRowA8 {
  const int8_t* q = nullptr;
  const float* d = nullptr;
  const int16_t* s16 = nullptr;
  const float* ds = nullptr;
};

}  // namespace ernie::quant
