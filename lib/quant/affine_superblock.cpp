#include "quant/affine_superblock.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_math.h"
#include "quant/simd4.h"
#include "util/error.h"

namespace ernie::quant {
namespace {

constexpr int kMaxSubBlocks = 16;
constexpr int kRefits = 1;

// One sub-block coded with value = scale * L - off: nearest codes, the
// squared error, and the code sums the super-block refit needs.
struct SubTrial {
  float err = 0.0f;
  float sl = 0.0f, sll = 0.0f, sxl = 0.0f;
};

template <int N, int Nmax>
SubTrial sub_trial(const float* x, float scale, float off, uint8_t* codes) {
  SubTrial t;
  // scale 0: every code 0 (inv = 0 keeps the loop below branch-free)
  const float inv = scale == 0.0f ? 0.0f : 1.0f / scale;
  F4 e{}, sl{}, sll{}, sxl{};
  for (int i = 0; i < N; i += 4) {
    const F4 v = load4(x + i);
    const I4 q = round_codes4((v + off) * inv, Nmax);
    const F4 code = to_float4(q);
    const F4 diff = v - (scale * code - off);
    e += diff * diff;
    sl += code;
    sll += code * code;
    sxl += v * code;
    for (int l = 0; l < 4; ++l) codes[i + l] = static_cast<uint8_t>(q[l]);
  }
  t.err = sum4(e);
  t.sl = sum4(sl);
  t.sll = sum4(sll);
  t.sxl = sum4(sxl);
  return t;
}

// The two integers around v / unit, clamped to [0, hi] (one when unit is 0).
int neighbours(float v, float unit, int hi, int* out) {
  if (!(unit > 0.0f)) {
    out[0] = 0;
    return 1;
  }
  const int lo = std::clamp(static_cast<int>(std::floor(std::min(v / unit, 1e6f))), 0, hi);
  out[0] = lo;
  out[1] = std::min(lo + 1, hi);
  return out[1] == lo ? 1 : 2;
}

// round(v / unit) clamped to [0, hi]; 0 when unit is 0.
int nearest_multiple(float v, float unit, int hi) {
  if (!(unit > 0.0f)) return 0;
  return std::clamp(static_cast<int>(std::floor(std::min(v / unit, 1e6f) + 0.5f)), 0, hi);
}

// Sums of the normal equations for refitting d and dmin with sc, m and the
// codes held fixed: value = d * a - dmin * c with a = sc * L, c = m.
struct RefitSums {
  double aa = 0, ac = 0, cc = 0, xa = 0, xc = 0;
};

struct Candidate {
  AffineSuperBlock block;
  RefitSums sums;
  float err = INFINITY;
};

// Codes the super-block under the f16 scales (d_bits, dmin_bits): per
// sub-block the best of the integer sc, m around the fitted scale and min.
template <int N, int Nmax>
void try_scales(const float* x, int max_sub_scale, const AffineFit* fits, const float* sub_sums, uint16_t d_bits,
                uint16_t dmin_bits, Candidate* c) {
  constexpr int n = N;
  constexpr int subs = kSuperBlockValues / N;
  const float d = f16_to_f32(d_bits), dmin = f16_to_f32(dmin_bits);
  c->block.d = d_bits;
  c->block.dmin = dmin_bits;
  c->sums = RefitSums{};
  c->err = 0.0f;
  uint8_t codes[N];
  for (int j = 0; j < subs; ++j) {
    const float* xs = x + j * n;
    int scs[2], ms[2];
    const int nsc = neighbours(fits[j].scale, d, max_sub_scale, scs);
    const int nm = neighbours(fits[j].min, dmin, max_sub_scale, ms);
    // With sc = 0 the sub-block is the one value -dmin * m, best nearest its
    // mean (this matters when an outlier elsewhere dwarfs the sub-block).
    const int m_flat = nearest_multiple(std::max(0.0f, -sub_sums[j] / n), dmin, max_sub_scale);
    SubTrial best;
    best.err = INFINITY;
    for (int a = 0; a < nsc; ++a) {
      const bool flat = scs[a] == 0;
      for (int b = 0; b < (flat ? 1 : nm); ++b) {
        const int mv = flat ? m_flat : ms[b];
        const SubTrial t =
            sub_trial<N, Nmax>(xs, d * static_cast<float>(scs[a]), dmin * static_cast<float>(mv), codes);
        if (t.err < best.err) {
          best = t;
          c->block.sc[j] = static_cast<uint8_t>(scs[a]);
          c->block.m[j] = static_cast<uint8_t>(mv);
          std::memcpy(c->block.codes + j * n, codes, static_cast<size_t>(n));
        }
      }
    }
    c->err += best.err;
    const double sc = c->block.sc[j], m = c->block.m[j];
    c->sums.aa += sc * sc * best.sll;
    c->sums.ac += sc * m * best.sl;
    c->sums.cc += m * m * n;
    c->sums.xa += sc * best.sxl;
    c->sums.xc += m * sub_sums[j];
  }
}

// Least-squares d and dmin for the candidate's integers and codes, as f16.
void refit_scales(const Candidate& c, uint16_t* d_bits, uint16_t* dmin_bits) {
  const RefitSums& s = c.sums;
  *d_bits = c.block.d;
  *dmin_bits = c.block.dmin;
  if (!(s.aa > 0)) return;
  double d = s.xa / s.aa, dmin = f16_to_f32(c.block.dmin);
  const double det = s.aa * s.cc - s.ac * s.ac;
  if (s.cc > 0 && det > 1e-9 * s.aa * s.cc) {
    d = (s.cc * s.xa - s.ac * s.xc) / det;
    dmin = (s.ac * s.xa - s.aa * s.xc) / det;
    if (dmin < 0) {
      dmin = 0;
      d = s.xa / s.aa;
    }
  }
  *d_bits = f16_scale_bits(static_cast<float>(d));
  *dmin_bits = f16_scale_bits(static_cast<float>(dmin));
}

template <int N, int Nmax>
void quantize_superblock(const float* x, const AffineLayout& layout, AffineSuperBlock* out) {
  constexpr int n = N;
  constexpr int subs = kSuperBlockValues / N;
  AffineFit fits[kMaxSubBlocks];
  float sub_sums[kMaxSubBlocks];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < subs; ++j) {
    fits[j] = fit_affine<N, Nmax>(x + j * n, layout.search);
    max_scale = std::max(max_scale, fits[j].scale);
    max_min = std::max(max_min, fits[j].min);
    float s = 0.0f;
    for (int i = 0; i < n; ++i) s += x[j * n + i];
    sub_sums[j] = s;
  }
  const float top = static_cast<float>(layout.max_sub_scale);
  Candidate best, trial;
  try_scales<N, Nmax>(x, layout.max_sub_scale, fits, sub_sums, f16_scale_bits_up(max_scale / top),
                      f16_scale_bits_up(max_min / top), &best);
  for (int r = 0; r < kRefits; ++r) {
    uint16_t d_bits, dmin_bits;
    refit_scales(best, &d_bits, &dmin_bits);
    if (d_bits == best.block.d && dmin_bits == best.block.dmin) break;
    try_scales<N, Nmax>(x, layout.max_sub_scale, fits, sub_sums, d_bits, dmin_bits, &trial);
    if (!(trial.err < best.err)) break;
    best = trial;
  }
  *out = best.block;
}

}  // namespace

void quantize_affine_superblock(const float* x, const AffineLayout& layout, AffineSuperBlock* out) {
  if (layout.sub_values == 32 && layout.nmax == 15) return quantize_superblock<32, 15>(x, layout, out);
  if (layout.sub_values == 16 && layout.nmax == 3) return quantize_superblock<16, 3>(x, layout, out);
  ERNIE_FAIL(ERNIE_E_INTERNAL, "affine super-block layout %d/%d has no instantiation", layout.sub_values, layout.nmax);
}

}  // namespace ernie::quant
