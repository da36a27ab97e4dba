// Per-type block quantizers and their scalar inverse (one file each:
// q8.cpp, q6.cpp, q4.cpp, q2.cpp); quantize.cpp dispatches on DType. `dst` and
// `src` are the packed bytes, any alignment; `blocks` whole blocks.
#pragma once

#include <cstdint>

namespace ernie::quant {

void quantize_q8(const float* src, uint8_t* dst, int64_t blocks);
void dequantize_q8(const uint8_t* src, float* dst, int64_t blocks);
void quantize_q6(const float* src, uint8_t* dst, int64_t blocks);
void dequantize_q6(const uint8_t* src, float* dst, int64_t blocks);
void quantize_q4(const float* src, uint8_t* dst, int64_t blocks);
void dequantize_q4(const uint8_t* src, float* dst, int64_t blocks);
void quantize_q2(const float* src, uint8_t* dst, int64_t blocks);
void dequantize_q2(const uint8_t* src, float* dst, int64_t blocks);
// q4x8 (q4x8.cpp): `blocks` row blocks of one group of 8 rows, rows one
// after the other in the floats.
void quantize_q4x8(const float* src, uint8_t* dst, int64_t blocks);
void dequantize_q4x8(const uint8_t* src, float* dst, int64_t blocks);

// The 12 bytes of BlockQ4::scales for 6-bit sc[8] and m[8] (q4_scale_min in
// blocks.h reads them back).
void q4_pack_scales(const uint8_t* sc, const uint8_t* m, uint8_t* scales);

}  // namespace ernie::quant
