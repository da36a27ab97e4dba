// q6: 256 values in 16 sub-blocks of 16, value = d * scales[j] * (q - 32)
// with 6-bit codes and int8 sub-block scales (blocks.h has the byte layout).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_codecs.h"
#include "quant/block_math.h"
#include "quant/blocks.h"
#include "quant/simd4.h"
#include "quant/subblock_fit.h"

namespace ernie::quant {
namespace {

constexpr int kSubValues = 16;
constexpr int kSubBlocks = kSuperBlockValues / kSubValues;
// Sub-block scales stay in [-127, 127] so kernels may negate them freely.
constexpr int kMaxSubScale = 127;
constexpr float kLimit = kF16Max * kMaxSubScale * 31;
constexpr int kRefits = 2;

struct Candidate {
  uint16_t d = 0;
  int8_t sc[kSubBlocks] = {};
  uint8_t q[kSuperBlockValues] = {};  // stored codes, value = (q - 32) * d * sc
  float err = INFINITY;
  double xl = 0, ll = 0;  // sum sc * sum(x L) and sum sc^2 * sum(L^2): the refit of d
};

struct SubTrial {
  float err = 0.0f, sxl = 0.0f, sll = 0.0f;
};

SubTrial sub_trial(const float* x, float scale, uint8_t* q) {
  SubTrial t;
  const float inv = scale == 0.0f ? 0.0f : 1.0f / scale;  // scale 0: every value 0 (code 32)
  F4 e{}, sxl{}, sll{};
  for (int i = 0; i < kSubValues; i += 4) {
    const F4 v = load4(x + i);
    const I4 stored = round_codes4(v * inv + 32.0f, 63);
    const F4 code = to_float4(stored) - 32.0f;
    const F4 diff = v - scale * code;
    e += diff * diff;
    sxl += v * code;
    sll += code * code;
    for (int l = 0; l < 4; ++l) q[i + l] = static_cast<uint8_t>(stored[l]);
  }
  t.err = sum4(e);
  t.sxl = sum4(sxl);
  t.sll = sum4(sll);
  return t;
}

// Codes the block under the f16 scale d_bits: per sub-block the better of
// the two integer scales around the fitted one.
void try_scale(const float* x, const float* fits, uint16_t d_bits, Candidate* c) {
  const float d = f16_to_f32(d_bits);
  c->d = d_bits;
  c->err = 0.0f;
  c->xl = c->ll = 0;
  uint8_t q[kSubValues];
  for (int j = 0; j < kSubBlocks; ++j) {
    int lo = 0, count = 1;
    if (d > 0.0f) {
      lo = static_cast<int>(std::floor(std::clamp(fits[j] / d, -1e6f, 1e6f)));
      lo = std::clamp(lo, -kMaxSubScale, kMaxSubScale);
      count = lo < kMaxSubScale ? 2 : 1;
    }
    SubTrial best;
    best.err = INFINITY;
    for (int k = 0; k < count; ++k) {
      const SubTrial t = sub_trial(x + j * kSubValues, d * static_cast<float>(lo + k), q);
      if (t.err < best.err) {
        best = t;
        c->sc[j] = static_cast<int8_t>(lo + k);
        std::memcpy(c->q + j * kSubValues, q, kSubValues);
      }
    }
    c->err += best.err;
    c->xl += static_cast<double>(c->sc[j]) * best.sxl;
    c->ll += static_cast<double>(c->sc[j]) * c->sc[j] * best.sll;
  }
}

BlockQ6 pack(const Candidate& c) {
  BlockQ6 b{};
  b.d = c.d;
  std::memcpy(b.scales, c.sc, sizeof b.scales);
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < 32; ++i) {
      b.ql[32 * p + i] = static_cast<uint8_t>((c.q[64 * p + i] & 15) | (c.q[64 * p + 32 + i] & 15) << 4);
    }
  }
  for (int h = 0; h < 2; ++h) {
    for (int i = 0; i < 32; ++i) {
      int byte = 0;
      for (int k = 0; k < 4; ++k) byte |= (c.q[128 * h + 32 * k + i] >> 4) << (2 * k);
      b.qh[32 * h + i] = static_cast<uint8_t>(byte);
    }
  }
  return b;
}

void quantize_block(const float* x, Candidate* best) {
  float fits[kSubBlocks];
  float max_scale = 0.0f;
  for (int j = 0; j < kSubBlocks; ++j) {
    fits[j] = fit_symmetric<kSubValues, 32, 31>(x + j * kSubValues);
    max_scale = std::max(max_scale, std::fabs(fits[j]));
  }
  try_scale(x, fits, f16_scale_bits_up(max_scale / kMaxSubScale), best);
  Candidate trial;
  for (int r = 0; r < kRefits && best->ll > 0; ++r) {
    const uint16_t d_bits = f16_scale_bits(static_cast<float>(best->xl / best->ll));
    if (d_bits == best->d) break;
    try_scale(x, fits, d_bits, &trial);
    if (!(trial.err < best->err)) break;
    *best = trial;
  }
}

}  // namespace

void quantize_q6(const float* src, uint8_t* dst, int64_t blocks) {
  float x[kSuperBlockValues];
  Candidate c;
  for (int64_t blk = 0; blk < blocks; ++blk) {
    sanitize_block(src + blk * kSuperBlockValues, x, kSuperBlockValues, -kLimit, kLimit);
    quantize_block(x, &c);
    const BlockQ6 b = pack(c);
    std::memcpy(dst + blk * sizeof(BlockQ6), &b, sizeof b);
  }
}

void dequantize_q6(const uint8_t* src, float* dst, int64_t blocks) {
  for (int64_t blk = 0; blk < blocks; ++blk) {
    BlockQ6 b;
    std::memcpy(&b, src + blk * sizeof(BlockQ6), sizeof b);
    const float d = f16_to_f32(b.d);
    float* out = dst + blk * kSuperBlockValues;
    for (int v = 0; v < kSuperBlockValues; ++v) {
      // low 4 bits: nibble (v % 64) / 32 of ql[32 (v / 64) + v % 32];
      // high 2 bits: bits 2k..2k+1 of qh[32 (v / 128) + v % 32], k = (v % 128) / 32
      const int lo_byte = b.ql[32 * (v / 64) + v % 32];
      const int lo = (v % 64) < 32 ? lo_byte & 15 : lo_byte >> 4;
      const int hi = (b.qh[32 * (v / 128) + v % 32] >> (2 * ((v % 128) / 32))) & 3;
      const int q = lo | hi << 4;
      out[v] = d * b.scales[v / 16] * (q - 32);
    }
  }
}

}  // namespace ernie::quant
