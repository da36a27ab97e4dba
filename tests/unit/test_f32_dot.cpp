// The f32 dot kernels (backends/cpu/kernels/f32_dot.h): every variant gives
// the scalar definition's bits, at lengths around the 32-lane step and at the
// model's widths, and the definition is close to the exact sum.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/kernels/f32_dot.h"

using ernie::cpu::Isa;

TEST_CASE("f32_dot: every ISA gives the scalar definition's bits") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  for (int64_t n : {0, 1, 7, 31, 32, 33, 63, 65, 100, 1536, 2560, 2561}) {
    CAPTURE(n);
    std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
    for (auto& v : a) v = value(rng);
    for (auto& v : b) v = value(rng);
    if (n > 3) a[3] = 1e-40f;  // a subnormal product
    const float want = ernie::cpu::f32_dot_scalar(a.data(), b.data(), n);
    double exact = 0;
    for (int64_t i = 0; i < n; ++i) exact += static_cast<double>(a[i]) * b[i];
    CHECK(std::abs(want - exact) <= 1e-5 * (std::abs(exact) + 1));
    for (Isa isa : ernie::cpu::kIsas) {
      CAPTURE(ernie::cpu::isa_name(isa));
      const float got = ernie::cpu::f32_dot_kernel(isa)(a.data(), b.data(), n);
      CHECK(std::memcmp(&got, &want, sizeof got) == 0);
    }
  }
}
