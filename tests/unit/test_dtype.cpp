#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "format/dtype.h"

using namespace ernie;

TEST_CASE("dtype: bf16 round to nearest even, NaN kept") {
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(bf16_to_f32(0x3f80) == 1.0f);
  // 1 + 2^-8 is exactly halfway between bf16 neighbours: ties to even (1.0).
  CHECK(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);
  CHECK(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(bf16_to_f32(f32_to_bf16(-INFINITY)) == -INFINITY);
}

TEST_CASE("dtype: f16 conversions over every f16 value round-trip") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      CHECK(std::isnan(f16_to_f32(f32_to_f16(f))));
      continue;
    }
    CHECK(f32_to_f16(f) == h);
  }
  CHECK(f16_to_f32(0x3c00) == 1.0f);
  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(f32_to_f16(70000.0f) == 0x7c00);                // overflow to inf
  CHECK(f32_to_f16(std::ldexp(1.0f, -26)) == 0);        // below half the smallest subnormal
  CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie to even
  CHECK(f32_to_f16(65519.0f) == 0x7bff);                       // rounds down to max
}

TEST_CASE("dtype: row bytes") {
  CHECK(dtype_row_bytes(DType::F32, 10) == 40);
  CHECK(dtype_row_bytes(DType::BF16, 10) == 20);
  CHECK(dtype_known(2));
  CHECK(!dtype_known(77));
}
