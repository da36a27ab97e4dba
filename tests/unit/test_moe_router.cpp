// The router against ERNIE45.md §3: the correction bias chooses experts but
// the weights come from the unbiased probabilities.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "backends/cpu/moe_router.h"
#include "backends/cpu/ops/norm_rope.h"

using namespace ernie;

TEST_CASE("moe router: bias selects, unbiased probabilities weigh") {
  const float logits[4] = {2.0f, 1.0f, 0.5f, 0.0f};
  const float bias[4] = {0.0f, 0.0f, 0.0f, 10.0f};  // forces expert 3 in
  float probs[4];
  ExpertChoice out[2];
  route_token(logits, bias, 4, 2, 1e-12, probs, out);
  double z = std::exp(2.0) + std::exp(1.0) + std::exp(0.5) + std::exp(0.0);
  double p0 = std::exp(2.0) / z, p3 = 1.0 / z;
  CHECK(out[0].expert == 3);  // highest biased score first
  CHECK(out[1].expert == 0);
  CHECK(out[0].weight == doctest::Approx(p3 / (p0 + p3)).epsilon(1e-6));
  CHECK(out[1].weight == doctest::Approx(p0 / (p0 + p3)).epsilon(1e-6));
}

TEST_CASE("moe router: without bias picks the top-k, weights sum to one") {
  const float logits[5] = {0.1f, 3.0f, -1.0f, 2.5f, 0.0f};
  float probs[5];
  ExpertChoice out[3];
  route_token(logits, nullptr, 5, 3, 1e-12, probs, out);
  CHECK(out[0].expert == 1);
  CHECK(out[1].expert == 3);
  CHECK(out[2].expert == 0);
  CHECK(out[0].weight + out[1].weight + out[2].weight == doctest::Approx(1.0));
}

TEST_CASE("rope: interleaved pairs rotate by pos * theta^(-2i/d)") {
  std::vector<double> inv(2);
  rope_inv_freq(10000.0, 4, inv.data());
  float v[4] = {1.0f, 0.0f, 0.0f, 1.0f};
  rope_interleaved(v, 1, 4, 3, inv.data());
  // pair 0 angle 3, pair 1 angle 3 * 10000^-0.5 = 0.03
  CHECK(v[0] == doctest::Approx(std::cos(3.0)));
  CHECK(v[1] == doctest::Approx(std::sin(3.0)));
  CHECK(v[2] == doctest::Approx(-std::sin(0.03)));
  CHECK(v[3] == doctest::Approx(std::cos(0.03)));
}

TEST_CASE("rmsnorm: no +1 on the weight") {
  const float x[2] = {3.0f, 4.0f};
  const float w[2] = {1.0f, 2.0f};
  float out[2];
  rmsnorm(x, w, 0.0f, out, 2);
  const float r = std::sqrt(12.5f);
  CHECK(out[0] == doctest::Approx(3.0f / r));
  CHECK(out[1] == doctest::Approx(8.0f / r));
}
