// Least-squares scale (and min) of one sub-block for a fixed range of integer
// codes: the first step of every quantizer, before the scales themselves are
// quantized. Inputs are sanitized (finite, see block_math.h). Templates on
// the sub-block size and code range so the loops have fixed trip counts and
// vectorize; instantiated in subblock_fit.cpp for the layouts in use.
#pragma once

namespace ernie::quant {

// Codes L in [-Neg, Pos]; value ~ scale * L (scale may be negative: mapping
// the largest magnitude onto -Neg uses the extra negative code).
template <int N, int Neg, int Pos>
float fit_symmetric(const float* x);

// Codes L in [0, Nmax]; value ~ scale * L - min with scale >= 0, min >= 0.
struct AffineFit {
  float scale = 0.0f;
  float min = 0.0f;
};

// How hard fit_affine searches: candidate inverse scales (Nmax + first +
// step * k) / (max - min) for k < steps, each refitted by least squares.
struct AffineSearch {
  float first;
  float step;
  int steps;
};

template <int N, int Nmax>
AffineFit fit_affine(const float* x, const AffineSearch& search);

}  // namespace ernie::quant
