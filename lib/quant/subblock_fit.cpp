#include "quant/subblock_fit.h"

#include <algorithm>
#include <cmath>

#include "quant/block_math.h"
#include "quant/simd4.h"

namespace ernie::quant {
namespace {

// fit_symmetric's candidates put the largest magnitude xm exactly on code
// -(Neg + k) or Pos + k. With 16 values the error is a bumpy function of the
// scale, and grids a few codes short of the full range often align the other
// values better: these 4 gain about 4 % RMSE on q6 over k = 0 alone; odd
// or fractional k help less.
constexpr float kSymmetricOffsets[] = {-6.0f, -4.0f, -2.0f, 0.0f};
// Re-rounding to the best fit so far and refitting (a Lloyd step), at most.
constexpr int kRefineRounds = 3;

// Codes nearest to x * iscale and their least-squares scale; `score` =
// sum(x L)^2 / sum(L^2) is what the fit removes from sum(x^2) (larger is better).
struct SymmetricTrial {
  float scale = 0.0f;
  float score = -1.0f;
};

template <int N, int Neg, int Pos>
SymmetricTrial symmetric_trial(const float* x, float iscale) {
  F4 sxl{}, sll{};
  for (int i = 0; i < N; i += 4) {
    const F4 v = load4(x + i);
    const F4 code = to_float4(round_codes4(v * iscale + float{Neg}, Neg + Pos)) - float{Neg};
    sxl += v * code;
    sll += code * code;
  }
  const float xl = sum4(sxl), ll = sum4(sll);
  if (ll <= 0.0f) return {};
  return {xl / ll, xl * xl / ll};
}

// Codes nearest to y * iscale, where y is the distance of x from the value
// that gets code 0 (or, FromTop, code Nmax), then the least-squares scale and
// offset (value = scale * L + offset, offset <= 0) and the squared error.
// sx, sxx: sums of x and x^2.
struct AffineTrial {
  float scale = 0.0f;
  float offset = 0.0f;
  float err = INFINITY;
};

template <int N, int Nmax, bool FromTop>
AffineTrial affine_trial(const float* x, const float* y, float iscale, float sx, float sxx) {
  F4 sl{}, sll{}, sxl{};
  for (int i = 0; i < N; i += 4) {
    F4 code = to_float4(round_codes4(load4(y + i) * iscale, Nmax));
    if constexpr (FromTop) code = float{Nmax} - code;
    sl += code;
    sll += code * code;
    sxl += load4(x + i) * code;
  }
  const float l1 = sum4(sl), l2 = sum4(sll), xl = sum4(sxl);
  constexpr float fn = static_cast<float>(N);
  const float det = fn * l2 - l1 * l1;
  if (det <= 0.0f) return {};  // one code for every value: no slope to fit
  float s = (fn * xl - sx * l1) / det;
  float b = (sx - s * l1) / fn;
  if (b > 0.0f) {  // the format's min is never above 0
    b = 0.0f;
    s = xl / l2;
  }
  if (s <= 0.0f) return {};
  const float err = sxx - 2 * s * xl - 2 * b * sx + s * s * l2 + 2 * s * b * l1 + fn * b * b;
  return {s, b, err};
}

}  // namespace

template <int N, int Neg, int Pos>
float fit_symmetric(const float* x) {
  float amax = 0.0f, xm = 0.0f;
  for (int i = 0; i < N; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      xm = x[i];
    }
  }
  if (amax == 0.0f) return 0.0f;
  SymmetricTrial best;
  auto consider = [&](float iscale) {
    const SymmetricTrial t = symmetric_trial<N, Neg, Pos>(x, iscale);
    if (t.score > best.score) best = t;
    return t.score;
  };
  for (float k : kSymmetricOffsets) {
    consider(-(static_cast<float>(Neg) + k) / xm);
    consider((static_cast<float>(Pos) + k) / xm);
  }
  for (int round = 0; round < kRefineRounds && best.scale != 0.0f; ++round) {
    const float before = best.score;
    if (!(consider(1.0f / best.scale) > before)) break;
  }
  return best.scale;
}

template <int N, int Nmax>
AffineFit fit_affine(const float* x, const AffineSearch& search) {
  float xmin = 0.0f, xmax = x[0], sx = 0.0f, sxx = 0.0f;
  for (int i = 0; i < N; ++i) {
    xmin = std::min(xmin, x[i]);
    xmax = std::max(xmax, x[i]);
    sx += x[i];
    sxx += x[i] * x[i];
  }
  const float range = xmax - xmin;
  if (!(range > 0.0f)) return {0.0f, -xmin};  // every value equals xmin <= 0
  float above_min[N], below_max[N];
  for (int i = 0; i < N; ++i) {
    above_min[i] = x[i] - xmin;
    below_max[i] = xmax - x[i];
  }
  AffineTrial best;
  auto keep = [&](const AffineTrial& t) {
    if (t.err < best.err) best = t;
    return t.err;
  };
  keep(affine_trial<N, Nmax, false>(x, above_min, static_cast<float>(Nmax) / range, sx, sxx));
  // Candidate grids anchored at either end: the optimum rarely puts both
  // extremes exactly on a code, and which one it favours varies by block.
  for (int k = 0; k < search.steps; ++k) {
    const float iscale = (static_cast<float>(Nmax) + search.first + search.step * static_cast<float>(k)) / range;
    keep(affine_trial<N, Nmax, false>(x, above_min, iscale, sx, sxx));
    keep(affine_trial<N, Nmax, true>(x, below_max, iscale, sx, sxx));
  }
  // Lloyd steps: codes nearest to the best (scale, offset) so far, refitted.
  for (int round = 0; round < kRefineRounds && best.scale > 0.0f; ++round) {
    const float before = best.err;
    for (int i = 0; i < N; ++i) above_min[i] = x[i] - best.offset;
    if (!(keep(affine_trial<N, Nmax, false>(x, above_min, 1.0f / best.scale, sx, sxx)) < before)) break;
  }
  if (!(best.scale > 0.0f)) return {range / static_cast<float>(Nmax), -xmin};
  return {best.scale, -best.offset};
}

template float fit_symmetric<16, 32, 31>(const float* x);
template AffineFit fit_affine<32, 15>(const float* x, const AffineSearch& search);
template AffineFit fit_affine<16, 3>(const float* x, const AffineSearch& search);

}  // namespace ernie::quant
