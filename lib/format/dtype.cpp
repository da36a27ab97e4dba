#include "format/dtype.h"

#include "quant/blocks.h"
#include "quant/quantize.h"

#include <cmath>
#include <cstring>
#include <initializer_list>

namespace ernie {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::Q8: return "q8";
    case DType::Q6: return "q6";
    case DType::Q4: return "q4";
    case DType::Q2: return "q2";
    case DType::Q4X8: return "q4x8";
  }
  return "?";
}

bool dtype_from_name(const char* name, DType* out) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8, DType::Q6, DType::Q4, DType::Q2, DType::Q4X8}) {
    if (std::strcmp(name, dtype_name(t)) == 0) {
      *out = t;
      return true;
    }
  }
  return false;
}

bool dtype_known(uint32_t raw) {
  return raw <= static_cast<uint32_t>(DType::BF16) ||
         (raw >= static_cast<uint32_t>(DType::Q8) && raw <= static_cast<uint32_t>(DType::Q4X8));
}

bool dtype_is_quantized(DType t) { return static_cast<uint32_t>(t) >= static_cast<uint32_t>(DType::Q8); }

uint64_t dtype_block_values(DType t) {
  switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16: return 1;
    case DType::Q8: return quant::kQ8BlockValues;
    case DType::Q6:
    case DType::Q4:
    case DType::Q2:
    case DType::Q4X8: return quant::kSuperBlockValues;
  }
  return 0;
}

uint64_t dtype_block_bytes(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16:
    case DType::BF16: return 2;
    case DType::Q8: return sizeof(quant::BlockQ8);
    case DType::Q6: return sizeof(quant::BlockQ6);
    case DType::Q4: return sizeof(quant::BlockQ4);
    case DType::Q2: return sizeof(quant::BlockQ2);
    case DType::Q4X8: return sizeof(quant::BlockQ4X8) / quant::kQ4X8Rows;
  }
  return 0;
}

uint64_t dtype_row_group(DType t) { return t == DType::Q4X8 ? quant::kQ4X8Rows : 1; }

uint64_t dtype_row_bytes(DType t, uint64_t cols) {
  const uint64_t per = dtype_block_values(t);
  if (per == 0 || cols % per != 0) return 0;
  return cols / per * dtype_block_bytes(t);
}

float bf16_to_f32(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t absbits = bits & 0x7fffffffu;
  if (absbits > 0x7f800000u) return sign | 0x7e00u;        // NaN
  if (absbits >= 0x477ff000u) return sign | 0x7c00u;       // overflow (incl. inf) -> inf
  if (absbits < 0x38800000u) {                             // subnormal or zero in f16
    if (absbits < 0x33000000u) return sign;                // rounds to zero
    uint32_t exp = absbits >> 23;
    uint32_t mant = (absbits & 0x7fffffu) | 0x800000u;
    // value = mant * 2^(exp-150); f16 subnormal unit = 2^-24 -> q = mant * 2^(exp-126)
    uint32_t rshift = 126 - exp;
    uint32_t q = mant >> rshift;
    uint32_t rem = mant & ((1u << rshift) - 1);
    uint32_t halfway = 1u << (rshift - 1);
    if (rem > halfway || (rem == halfway && (q & 1u))) ++q;
    return sign | static_cast<uint16_t>(q);
  }
  uint32_t exp = (absbits >> 23) - 127 + 15;
  uint32_t mant = absbits & 0x7fffffu;
  uint32_t h = exp << 10 | mant >> 13;
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into exponent: correct
  return sign | static_cast<uint16_t>(h);
}

void convert_to_f32(DType from, const void* src, float* dst, size_t n) {
  switch (from) {
    case DType::F32: std::memcpy(dst, src, n * 4); return;
    case DType::F16: {
      auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    case DType::BF16: {
      auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    case DType::Q8:
    case DType::Q6:
    case DType::Q4:
    case DType::Q2:
    case DType::Q4X8: quant::dequantize_row(from, src, dst, static_cast<int64_t>(n)); return;
  }
}

void convert_from_f32(DType to, const float* src, void* dst, size_t n) {
  switch (to) {
    case DType::F32: std::memcpy(dst, src, n * 4); return;
    case DType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::Q8:
    case DType::Q6:
    case DType::Q4:
    case DType::Q2:
    case DType::Q4X8: quant::quantize_row(to, src, dst, static_cast<int64_t>(n)); return;
  }
}

}  // namespace ernie
