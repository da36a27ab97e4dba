// quantize_row / dequantize_row: argument checks and the dispatch on DType
// to the per-type codecs (block_codecs.h).
#include "quant/quantize.h"

#include "quant/block_codecs.h"
#include "util/error.h"

namespace ernie::quant {
namespace {

// Number of whole blocks of `t` in `n` values; fails on anything else.
int64_t whole_blocks(const char* what, DType t, int64_t n) {
  ERNIE_CHECK(dtype_is_quantized(t) && dtype_known(static_cast<uint32_t>(t)), ERNIE_E_INVALID_ARGUMENT,
              "%s: dtype %u is not a quantized type", what, static_cast<unsigned>(t));
  const auto per = static_cast<int64_t>(dtype_block_values(t) * dtype_row_group(t));
  ERNIE_CHECK(n >= 0 && n % per == 0, ERNIE_E_INVALID_ARGUMENT,
              "%s: %lld values are not a whole number of %s blocks (%lld values each)", what,
              static_cast<long long>(n), dtype_name(t), static_cast<long long>(per));
  return n / static_cast<int64_t>(dtype_block_values(t));
}

}  // namespace

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  const int64_t blocks = whole_blocks("quantize_row", t, n);
  auto* out = static_cast<uint8_t*>(dst);
  switch (t) {
    case DType::Q8: quantize_q8(src, out, blocks); return;
    case DType::Q6: quantize_q6(src, out, blocks); return;
    case DType::Q4: quantize_q4(src, out, blocks); return;
    case DType::Q2: quantize_q2(src, out, blocks); return;
    case DType::Q4X8: quantize_q4x8(src, out, blocks); return;
    default: return;  // rejected by whole_blocks
  }
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  const int64_t blocks = whole_blocks("dequantize_row", t, n);
  const auto* in = static_cast<const uint8_t*>(src);
  switch (t) {
    case DType::Q8: dequantize_q8(in, dst, blocks); return;
    case DType::Q6: dequantize_q6(in, dst, blocks); return;
    case DType::Q4: dequantize_q4(in, dst, blocks); return;
    case DType::Q2: dequantize_q2(in, dst, blocks); return;
    case DType::Q4X8: dequantize_q4x8(in, dst, blocks); return;
    default: return;
  }
}

}  // namespace ernie::quant
