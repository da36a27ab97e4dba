#include "dev/synth_values.h"

#include <cmath>
#include <cstring>

#include "quant/q4x8_layout.h"
#include "quant/blocks.h"
#include "util/checksum.h"
#include "util/error.h"

namespace ernie::dev {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kBlockStream = 0xB10C5EEDB10C5EEDull;  // separates block codes from float values
constexpr uint64_t kWordsPerBlock = 32;                  // random words reserved per block (q6 uses 26)

// splitmix64's output function: a counter-based generator (value i of a
// stream is mix(key + i * golden)), so ranges need no sequential state.
inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Irwin-Hall: the sum of four uniform 16-bit parts of one random word,
// centred and scaled to unit variance (bounded at ±3.46).
inline float approx_normal(uint64_t r) {
  const uint32_t s = static_cast<uint32_t>(r & 0xFFFF) + static_cast<uint32_t>((r >> 16) & 0xFFFF) +
                     static_cast<uint32_t>((r >> 32) & 0xFFFF) + static_cast<uint32_t>(r >> 48);
  constexpr float kMean = 4 * 32767.5f;
  constexpr float kInvStd = 1.0f / 37837.23f;  // sqrt(4 * (65536² - 1) / 12)
  return (static_cast<float>(s) - kMean) * kInvStd;
}

// The random words of one block.
struct BlockWords {
  uint64_t base;
  uint64_t next_index = 0;
  uint64_t next() { return mix(base + (next_index++) * kGolden); }
  void fill(uint8_t* dst, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
      const uint64_t w = next();
      std::memcpy(dst + i, &w, n - i < 8 ? n - i : 8);
    }
  }
};

// The block scale d: sigma / (code spread * rms of the sub-block scales),
// jittered by ±15 % per block, as f16.
uint16_t block_scale(const ValueLaw& law, float code_std, float scale_rms, uint64_t r) {
  const float jitter = 0.85f + 0.3f * static_cast<float>(r & 0xFFFF) / 65535.0f;
  return f32_to_f16(law.sigma / (code_std * scale_rms) * jitter);
}

// Codes are uniform; the spreads below are those of the uniform code ranges
// and of the sub-block scales drawn uniformly from the ranges used. Every
// type is exactly or statistically zero-mean: a mean shared by all weights
// would add the same offset to every output of every matrix product.
void q8_block(BlockWords& rng, const ValueLaw& law, quant::BlockQ8* b) {
  b->d = block_scale(law, 73.6f, 1.0f, rng.next());
  rng.fill(reinterpret_cast<uint8_t*>(b->q), sizeof b->q);
  // Symmetric codes only; -128 becomes ±127 by position so the mean stays 0.
  for (int i = 0; i < 32; ++i) b->q[i] = b->q[i] == -128 ? static_cast<int8_t>(i % 2 ? 127 : -127) : b->q[i];
}

void q6_block(BlockWords& rng, const ValueLaw& law, quant::BlockQ6* b) {
  b->d = block_scale(law, 18.47f, 97.27f, rng.next());  // q - 32 in [-32, 31]; |scales| 64..127
  uint8_t raw[16];
  rng.fill(raw, sizeof raw);
  // q - 32 has mean -1/2: random scale signs keep that from becoming a bias
  // shared by every weight (which deep networks amplify layer after layer).
  for (int j = 0; j < 16; ++j) {
    const int sc = 64 + (raw[j] >> 1) % 64;
    b->scales[j] = static_cast<int8_t>(raw[j] & 1 ? -sc : sc);
  }
  rng.fill(b->ql, sizeof b->ql);
  rng.fill(b->qh, sizeof b->qh);
}

// q4 and q2 subtract dmin * m[j]; with m[j] = sc[j] and dmin = d * (mean
// code) every sub-block is centred on zero.
void q4_block(BlockWords& rng, const ValueLaw& law, quant::BlockQ4* b) {
  b->d = block_scale(law, 4.61f, 48.39f, rng.next());  // codes 0..15; scales 32..63
  b->dmin = f32_to_f16(7.5f * f16_to_f32(b->d));
  uint8_t raw[8];
  rng.fill(raw, sizeof raw);
  std::memset(b->scales, 0, sizeof b->scales);
  for (int j = 0; j < 8; ++j) {
    const int sc = 32 + raw[j] % 32, m = sc;
    b->scales[j] = static_cast<uint8_t>((sc & 15) | (m & 15) << 4);
    b->scales[8 + j / 2] |= static_cast<uint8_t>((((sc >> 4) & 3) | ((m >> 4) & 3) << 2) << (4 * (j % 2)));
  }
  rng.fill(b->qs, sizeof b->qs);
}

void q2_block(BlockWords& rng, const ValueLaw& law, quant::BlockQ2* b) {
  b->d = block_scale(law, 1.118f, 11.73f, rng.next());  // codes 0..3; scales 8..15
  b->dmin = f32_to_f16(1.5f * f16_to_f32(b->d));
  uint8_t raw[16];
  rng.fill(raw, sizeof raw);
  for (int j = 0; j < 16; ++j) {
    const int sc = 8 + raw[j] % 8;
    b->scales[j] = static_cast<uint8_t>(sc | sc << 4);
  }
  rng.fill(b->qs, sizeof b->qs);
}

}  // namespace

ValueLaw value_law(const TensorSpec& spec, const ModelConfig& config) {
  switch (spec.role) {
    case TensorRole::Norm: return {1.0f, 0.02f};
    case TensorRole::Router:
      if (spec.shape.size() == 1) return {0.0f, 0.002f};  // the correction bias only nudges the choice
      return {0.0f, 1.0f / std::sqrt(static_cast<float>(config.hidden_size))};
    default: return {0.0f, 0.02f};
  }
}

uint64_t tensor_key(uint64_t seed, std::string_view name) {
  return mix(mix(seed * kGolden + 1) ^ crc32c(name.data(), name.size()));
}

void synth_floats(uint64_t key, const ValueLaw& law, uint64_t first, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = law.mean + law.sigma * approx_normal(mix(key + (first + i) * kGolden));
}

void synth_blocks(uint64_t key, DType t, const ValueLaw& law, uint64_t first_block, size_t n_blocks, uint8_t* out) {
  ERNIE_CHECK(dtype_is_quantized(t) && law.mean == 0.0f, ERNIE_E_INTERNAL,
              "synth: %s blocks of a tensor with mean %g", dtype_name(t), law.mean);
  const uint64_t stream = mix(key ^ kBlockStream);
  if (t == DType::Q4X8) {
    // Each 1152 bytes: 8 random q4 blocks interleaved as one super-block
    // column of 8 rows (random values need no particular row order).
    ERNIE_CHECK(first_block % quant::kQ4X8Rows == 0 && n_blocks % quant::kQ4X8Rows == 0, ERNIE_E_INTERNAL,
                "synth: q4x8 range is not whole groups");
    for (size_t i = 0; i < n_blocks; i += quant::kQ4X8Rows) {
      quant::BlockQ4 rows[quant::kQ4X8Rows];
      for (int r = 0; r < quant::kQ4X8Rows; ++r) {
        BlockWords rng{stream + (first_block + i + static_cast<size_t>(r)) * kWordsPerBlock * kGolden};
        q4_block(rng, law, &rows[r]);
      }
      quant::interleave_q4x8(reinterpret_cast<const uint8_t*>(rows), 1, out + i * sizeof(quant::BlockQ4));
    }
    return;
  }
  const size_t bytes = dtype_block_bytes(t);
  for (size_t i = 0; i < n_blocks; ++i) {
    BlockWords rng{stream + (first_block + i) * kWordsPerBlock * kGolden};
    uint8_t* b = out + i * bytes;
    switch (t) {
      case DType::Q8: q8_block(rng, law, reinterpret_cast<quant::BlockQ8*>(b)); break;
      case DType::Q6: q6_block(rng, law, reinterpret_cast<quant::BlockQ6*>(b)); break;
      case DType::Q4: q4_block(rng, law, reinterpret_cast<quant::BlockQ4*>(b)); break;
      case DType::Q2: q2_block(rng, law, reinterpret_cast<quant::BlockQ2*>(b)); break;
      default: break;
    }
  }
}

void synth_typed(uint64_t key, const ValueLaw& law, DType t, uint64_t first, size_t n, float* scratch, uint8_t* out) {
  if (dtype_is_quantized(t)) {
    const uint64_t per = dtype_block_values(t);
    ERNIE_CHECK(first % per == 0 && n % per == 0, ERNIE_E_INTERNAL, "synth: %s range is not whole blocks",
                dtype_name(t));
    synth_blocks(key, t, law, first / per, n / per, out);
    return;
  }
  synth_floats(key, law, first, n, scratch);
  convert_from_f32(t, scratch, out, n);
}

}  // namespace ernie::dev
