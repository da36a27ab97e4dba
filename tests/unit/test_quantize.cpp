// The block quantizers (lib/quant): reconstruction error, edge cases, the
// byte layouts of blocks.h checked against hand-built blocks, and the
// activation quantizer.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "format/dtype.h"
#include "quant/block_codecs.h"
#include "quant/blocks.h"
#include "quant/quantize.h"
#include "util/error.h"

using namespace ernie;
using namespace ernie::quant;

namespace {

const DType kTypes[] = {DType::Q8, DType::Q6, DType::Q4, DType::Q2};

// Deterministic samples on every platform (std:: distributions differ
// between standard libraries, and the error bounds below are tight).
class Samples {
 public:
  explicit Samples(uint64_t seed) : state_(seed) {}
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }  // [0, 1)
  double gaussian() {
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double student_t3() {  // heavy tails: a few values near 10 sigma per 16k
    const double a = gaussian(), b = gaussian(), c = gaussian();
    return gaussian() / std::sqrt((a * a + b * b + c * c) / 3.0);
  }

 private:
  uint64_t next() {  // splitmix64
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

enum class Dist { Gaussian, Uniform, HeavyTailed };

std::vector<float> sample(Dist dist, int64_t n, uint64_t seed, double scale = 1.0) {
  Samples s(seed);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) {
    const double r = dist == Dist::Gaussian  ? s.gaussian()
                     : dist == Dist::Uniform ? 2 * s.uniform() - 1
                                             : s.student_t3();
    v = static_cast<float>(r * scale);
  }
  return x;
}

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(dtype_row_bytes(t, x.size()));
  quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> dequantize(DType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(n));
  return y;
}

std::vector<float> round_trip(DType t, const std::vector<float>& x) { return dequantize(t, quantize(t, x), x.size()); }

// sqrt(sum (x - y)^2 / sum x^2)
double relative_rmse(const std::vector<float>& x, const std::vector<float>& y, size_t from = 0, size_t to = SIZE_MAX) {
  double err = 0, ref = 0;
  for (size_t i = from; i < std::min(to, x.size()); ++i) {
    err += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    ref += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(err / ref);
}

bool all_finite(const std::vector<float>& y) {
  for (float v : y) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

template <class Block>
Block block_at(const std::vector<uint8_t>& q, size_t index) {
  Block b;
  std::memcpy(&b, q.data() + index * sizeof(Block), sizeof b);
  return b;
}

ernie_status status_of(void (*fn)()) {
  try {
    fn();
  } catch (const Error& e) {
    return e.status();
  }
  return ERNIE_OK;
}

}  // namespace

TEST_SUITE("quantize") {

TEST_CASE("quantize: round-trip error per type and distribution") {
  // Measured relative RMSE (sqrt(sum err^2 / sum x^2)) of these 16384 values:
  //          gaussian  uniform   student-t3
  //   q8     0.00483   0.00339   0.00808
  //   q6     0.01662   0.01240   0.02534
  //   q4     0.06992   0.05367   0.09068
  //   q2     0.26028   0.21612   0.28430
  // llama.cpp's reference Q8_0 / Q6_K / Q4_K / Q2_K quantizers reach about
  // 0.0053 / 0.0177 / 0.0712 / 0.296 on gaussian data.
  struct Bound {
    DType t;
    double gaussian, uniform, heavy;
  };
  const Bound bounds[] = {
      {DType::Q8, 0.0050, 0.0035, 0.0083},
      {DType::Q6, 0.0171, 0.0128, 0.0261},
      {DType::Q4, 0.0720, 0.0553, 0.0934},
      {DType::Q2, 0.2680, 0.2226, 0.2928},
  };
  const int64_t n = 64 * 256;
  const std::vector<float> data[] = {sample(Dist::Gaussian, n, 1), sample(Dist::Uniform, n, 2),
                                     sample(Dist::HeavyTailed, n, 3)};
  for (const Bound& b : bounds) {
    const std::string name = dtype_name(b.t);
    CAPTURE(name);
    const double limits[] = {b.gaussian, b.uniform, b.heavy};
    for (int k = 0; k < 3; ++k) {
      CAPTURE(k);
      const double e = relative_rmse(data[k], round_trip(b.t, data[k]));
      CHECK(e < limits[k]);
    }
  }
}

TEST_CASE("quantize: q8 codes and q6 sub-block scales never use -128") {
  // Kernels may negate them (e.g. sign tricks with int8 products).
  const std::vector<float> x = sample(Dist::HeavyTailed, 16 * 256, 4);
  const std::vector<uint8_t> q8 = quantize(DType::Q8, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    const BlockQ8 blk = block_at<BlockQ8>(q8, b);
    for (int8_t c : blk.q) CHECK(c != -128);
  }
  const std::vector<uint8_t> q6 = quantize(DType::Q6, x);
  for (size_t b = 0; b < x.size() / 256; ++b) {
    const BlockQ6 blk = block_at<BlockQ6>(q6, b);
    for (int8_t s : blk.scales) CHECK(s != -128);
  }
}

TEST_CASE("quantize: all-zero blocks give zero scales and exact zeros") {
  const std::vector<float> x(512, 0.0f);
  for (DType t : kTypes) {
    const std::string name = dtype_name(t);
    CAPTURE(name);
    const std::vector<uint8_t> q = quantize(t, x);
    for (float v : dequantize(t, q, x.size())) CHECK(v == 0.0f);
    uint16_t d;
    std::memcpy(&d, q.data(), 2);  // every layout starts with its f16 d
    CHECK(d == 0);
  }
}

TEST_CASE("quantize: constant blocks reproduce the constant") {
  // Within f16 precision while the super-block scales are normal f16 numbers;
  // small constants (subnormal scales, coarser steps) within 1 %.
  struct Case {
    float c, tolerance;
  };
  for (const Case k : {Case{1.0f, 2e-3f}, Case{-1.0f, 2e-3f}, Case{0.37f, 2e-3f}, Case{-123.5f, 2e-3f},
                       Case{3e-3f, 1e-2f}, Case{-3e-3f, 1e-2f}}) {
    const std::vector<float> x(256, k.c);
    for (DType t : kTypes) {
      const std::string name = dtype_name(t);
      CAPTURE(name);
      CAPTURE(k.c);
      for (float v : round_trip(t, x)) CHECK(std::fabs(v - k.c) <= k.tolerance * std::fabs(k.c));
    }
  }
}

TEST_CASE("quantize: one huge outlier is kept and does not blow up the rest") {
  std::vector<float> x = sample(Dist::Gaussian, 4 * 256, 5);
  x[300] = 1000.0f;  // in super-block 1, sub-block 1 of q4 (and 2 of q6/q2)
  for (DType t : kTypes) {
    const std::string name = dtype_name(t);
    CAPTURE(name);
    const std::vector<float> y = round_trip(t, x);
    CHECK(all_finite(y));
    CHECK(std::fabs(y[300] - 1000.0f) <= 0.01f * 1000.0f);
    // Blocks without the outlier are unaffected.
    const std::vector<float> alone(x.begin(), x.begin() + 256);
    const std::vector<float> y_alone = round_trip(t, alone);
    for (size_t i = 0; i < 256; ++i) CHECK(y[i] == y_alone[i]);
    // In its own block the other values cannot get worse than dropping them.
    CHECK(relative_rmse(x, y, 256, 300) <= 1.0);
    CHECK(relative_rmse(x, y, 301, 512) <= 1.0);
  }
  // q8 has a scale per 32 values: only the outlier's block is coarse.
  const std::vector<float> y8 = round_trip(DType::Q8, x);
  CHECK(relative_rmse(x, y8, 320, 512) < 0.0055);
}

TEST_CASE("quantize: extreme magnitudes") {
  const std::vector<float> base = sample(Dist::Gaussian, 2 * 256, 6);
  for (DType t : kTypes) {
    const std::string name = dtype_name(t);
    CAPTURE(name);
    // Far below what an f16 scale can express: everything reconstructs to 0.
    std::vector<float> tiny = base;
    for (float& v : tiny) v *= 1e-30f;
    for (float v : round_trip(t, tiny)) CHECK(v == 0.0f);
    // Large but representable: the same relative error as at unit scale.
    std::vector<float> big = base;
    for (float& v : big) v *= 1e4f;
    CHECK(relative_rmse(big, round_trip(t, big)) < 1.05 * relative_rmse(base, round_trip(t, base)) + 1e-4);
    // Beyond what the type can hold: clamped, finite, signs kept.
    std::vector<float> huge = base;
    for (float& v : huge) v *= 1e30f;
    const std::vector<float> y = round_trip(t, huge);
    CHECK(all_finite(y));
    for (size_t i = 0; i < y.size(); ++i) {
      if (std::fabs(base[i]) > 1.0f) CHECK(std::signbit(y[i]) == std::signbit(huge[i]));
    }
  }
  // Small magnitudes, where f16 scales are subnormal, still quantize usefully.
  std::vector<float> small = base;
  for (float& v : small) v *= 1e-4f;
  CHECK(relative_rmse(small, round_trip(DType::Q8, small)) < 0.05);
  CHECK(relative_rmse(small, round_trip(DType::Q4, small)) < 0.1);
}

TEST_CASE("quantize: NaN and infinities are treated as 0") {
  const std::vector<float> x = sample(Dist::Gaussian, 2 * 256, 7);
  std::vector<float> dirty = x, clean = x;
  const size_t bad[] = {0, 17, 255, 300};
  const float values[] = {std::numeric_limits<float>::quiet_NaN(), INFINITY, -INFINITY,
                          -std::numeric_limits<float>::quiet_NaN()};
  for (int k = 0; k < 4; ++k) {
    dirty[bad[k]] = values[k];
    clean[bad[k]] = 0.0f;
  }
  for (DType t : kTypes) {
    const std::string name = dtype_name(t);
    CAPTURE(name);
    const std::vector<uint8_t> q = quantize(t, dirty);
    CHECK(q == quantize(t, clean));
    CHECK(all_finite(dequantize(t, q, x.size())));
  }
}

TEST_CASE("quantize: rows one after another equal one call, output is deterministic") {
  const int64_t cols = 512, rows = 3;
  const std::vector<float> x = sample(Dist::HeavyTailed, rows * cols, 8);
  for (DType t : kTypes) {
    const std::string name = dtype_name(t);
    CAPTURE(name);
    const std::vector<uint8_t> all = quantize(t, x);
    CHECK(all == quantize(t, x));
    const uint64_t row_bytes = dtype_row_bytes(t, cols);
    // Row by row into an odd address: same bytes (the codecs accept any alignment).
    std::vector<uint8_t> by_row(all.size() + 1);
    for (int64_t r = 0; r < rows; ++r) {
      quantize_row(t, x.data() + r * cols, by_row.data() + 1 + r * row_bytes, cols);
    }
    CHECK(std::memcmp(all.data(), by_row.data() + 1, all.size()) == 0);
    std::vector<float> y(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row(t, by_row.data() + 1 + r * row_bytes, y.data(), cols);
      const std::vector<float> whole = dequantize(t, all, x.size());
      CHECK(std::memcmp(y.data(), whole.data() + r * cols, cols * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("quantize: q4 scale packing round-trips through q4_scale_min") {
  uint8_t sc[8], m[8], packed[12];
  for (int a = 0; a < 64; ++a) {
    for (int b = 0; b < 64; ++b) {
      for (int j = 0; j < 8; ++j) {  // every value in every position, neighbours differing
        sc[j] = static_cast<uint8_t>((a + 9 * j) % 64);
        m[j] = static_cast<uint8_t>((b + 23 * j) % 64);
      }
      q4_pack_scales(sc, m, packed);
      for (int j = 0; j < 8; ++j) {
        int got_sc, got_m;
        q4_scale_min(packed, j, &got_sc, &got_m);
        if (got_sc != sc[j] || got_m != m[j]) {
          FAIL_CHECK("j=", j, " sc=", int(sc[j]), " m=", int(m[j]), " read back ", got_sc, "/", got_m);
        }
      }
    }
  }
  // The documented bit positions, spelled out once: sc[5] = 0b110101, m[5] = 0b011010.
  std::memset(sc, 0, sizeof sc);
  std::memset(m, 0, sizeof m);
  sc[5] = 0x35;
  m[5] = 0x1a;
  q4_pack_scales(sc, m, packed);
  CHECK(packed[5] == 0xa5);   // low nibbles: sc & 15 = 5, m & 15 = 10
  CHECK(packed[10] == 0x70);  // byte 8 + 5/2, high nibble (5 odd): sc >> 4 = 3, m >> 4 = 1 -> 0b0111
}

// Hand-built blocks, laid out by the rules of blocks.h written the way the
// documentation states them, against the value formulas.
TEST_CASE("quantize: dequantize_row follows the documented q8 layout") {
  BlockQ8 b{};
  b.d = f32_to_f16(0.25f);
  for (int i = 0; i < 32; ++i) b.q[i] = static_cast<int8_t>(i * 8 - 128);
  float y[32];
  dequantize_row(DType::Q8, &b, y, 32);
  for (int i = 0; i < 32; ++i) CHECK(y[i] == 0.25f * static_cast<float>(i * 8 - 128));
  CHECK(y[0] == -32.0f);
}

TEST_CASE("quantize: dequantize_row follows the documented q6 layout") {
  auto code = [](int v) { return (v * 7 + 3) % 64; };
  BlockQ6 b{};
  b.d = f32_to_f16(0.5f);
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(j * 16 - 128);
  // ql[32p + i]: low 4 bits of value 64p + i (low nibble) and 64p + 32 + i (high nibble)
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < 32; ++i) {
      b.ql[32 * p + i] = static_cast<uint8_t>((code(64 * p + i) & 15) | (code(64 * p + 32 + i) & 15) << 4);
    }
  }
  // qh[32h + i]: bits 2k..2k+1 = high 2 bits of value 128h + 32k + i
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      for (int i = 0; i < 32; ++i) {
        b.qh[32 * h + i] |= static_cast<uint8_t>((code(128 * h + 32 * k + i) >> 4) << (2 * k));
      }
    }
  }
  float y[256];
  dequantize_row(DType::Q6, &b, y, 256);
  for (int v = 0; v < 256; ++v) {
    CAPTURE(v);
    CHECK(y[v] == 0.5f * static_cast<float>(b.scales[v / 16]) * static_cast<float>(code(v) - 32));
  }
  // Value 200 = 128 + 32*2 + 8: code (1400 + 3) % 64 = 59; scale of sub-block 12 is 64.
  CHECK(y[200] == 0.5f * 64.0f * 27.0f);
}

TEST_CASE("quantize: dequantize_row follows the documented q4 layout") {
  auto code = [](int v) { return (v * 5 + 1) % 16; };
  auto sc = [](int j) { return 5 + 7 * j; };
  auto m = [](int j) { return 63 - 8 * j; };
  BlockQ4 b{};
  b.d = f32_to_f16(0.25f);
  b.dmin = f32_to_f16(0.125f);
  for (int j = 0; j < 8; ++j) {
    // byte j: low nibble sc & 15, high nibble m & 15; byte 8 + j/2, nibble j%2:
    // bits 0-1 sc >> 4, bits 2-3 m >> 4
    b.scales[j] = static_cast<uint8_t>((sc(j) & 15) | (m(j) & 15) << 4);
    b.scales[8 + j / 2] |= static_cast<uint8_t>(((sc(j) >> 4) | (m(j) >> 4) << 2) << (4 * (j % 2)));
  }
  // qs[32p + i]: low nibble = value 64p + i, high nibble = value 64p + 32 + i
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < 32; ++i) b.qs[32 * p + i] = static_cast<uint8_t>(code(64 * p + i) | code(64 * p + 32 + i) << 4);
  }
  float y[256];
  dequantize_row(DType::Q4, &b, y, 256);
  for (int v = 0; v < 256; ++v) {
    CAPTURE(v);
    const int j = v / 32;
    CHECK(y[v] == 0.25f * static_cast<float>(sc(j) * code(v)) - 0.125f * static_cast<float>(m(j)));
  }
  // Value 100 = 64 + 32 + 4: high nibble of qs[36], code 501 % 16 = 5; sub-block 3: sc 26, m 39.
  CHECK((b.qs[36] >> 4) == 5);
  CHECK(y[100] == 0.25f * 26 * 5 - 0.125f * 39);
}

TEST_CASE("quantize: dequantize_row follows the documented q2 layout") {
  auto code = [](int v) { return (v * 3 + v / 7) % 4; };
  BlockQ2 b{};
  b.d = f32_to_f16(0.5f);
  b.dmin = f32_to_f16(0.25f);
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<uint8_t>(j | (15 - j) << 4);  // sc = j, m = 15 - j
  // qs[32h + i]: bits 2k..2k+1 = code of value 128h + 32k + i
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      for (int i = 0; i < 32; ++i) b.qs[32 * h + i] |= static_cast<uint8_t>(code(128 * h + 32 * k + i) << (2 * k));
    }
  }
  float y[256];
  dequantize_row(DType::Q2, &b, y, 256);
  for (int v = 0; v < 256; ++v) {
    CAPTURE(v);
    const int j = v / 16;
    CHECK(y[v] == 0.5f * static_cast<float>(j * code(v)) - 0.25f * static_cast<float>(15 - j));
  }
  // Value 77 = 32*2 + 13: bits 4-5 of qs[13]; code (231 + 11) % 4 = 2; sub-block 4: sc 4, m 11.
  CHECK(((b.qs[13] >> 4) & 3) == 2);
  CHECK(y[77] == 0.5f * 4 * 2 - 0.25f * 11);
}

TEST_CASE("quantize: bad arguments are refused") {
  CHECK(status_of([] {
          float x[100] = {};
          uint8_t q[1024];
          quantize_row(DType::Q4, x, q, 100);
        }) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(status_of([] {
          float x[32] = {};
          uint8_t q[128];
          quantize_row(DType::F32, x, q, 32);
        }) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(status_of([] {
          uint8_t q[34] = {};
          float y[32];
          dequantize_row(DType::Q8, q, y, -32);
        }) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(status_of([] {
          float x[48] = {};
          int8_t q[48];
          float d[2];
          int16_t s[3];
          float ds[2];
          quantize_acts(x, 48, q, d, s, ds);
        }) == ERNIE_E_INVALID_ARGUMENT);
  float x[1] = {};
  uint8_t q[1] = {};
  quantize_row(DType::Q2, x, q, 0);  // zero values: nothing to do
}

TEST_CASE("quantize: activations per 32 values, nearest codes, 16-value sums, scaled 32-value sums") {
  const int64_t n = 8 * 32;
  std::vector<float> x = sample(Dist::HeavyTailed, n, 10, 3.0);
  for (int i = 64; i < 96; ++i) x[static_cast<size_t>(i)] = 0.0f;  // block 2 all zero
  x[5] = -1e30f;                                                   // finite but huge
  std::vector<int8_t> q(n);
  std::vector<float> d(n / 32);
  std::vector<int16_t> s16(n / 16);
  std::vector<float> ds(n / 32);
  quantize_acts(x.data(), n, q.data(), d.data(), s16.data(), ds.data());
  for (int64_t b = 0; b < n / 32; ++b) {
    CAPTURE(b);
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
    CHECK(d[b] == amax / 127.0f);
    for (int i = 0; i < 32; ++i) {
      const int c = q[b * 32 + i];
      CHECK(c >= -127);
      CHECK(c <= 127);
      if (d[b] == 0.0f) {
        CHECK(c == 0);
      } else {
        CHECK(std::fabs(static_cast<double>(x[b * 32 + i]) / d[b] - c) <= 0.5 + 1e-4);
      }
    }
  }
  CHECK(d[2] == 0.0f);
  CHECK(q[5] == -127);
  for (int64_t h = 0; h < n / 16; ++h) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += q[h * 16 + i];
    CHECK(s16[h] == sum);
  }
  for (int64_t b = 0; b < n / 32; ++b) CHECK(ds[b] == d[b] * static_cast<float>(s16[2 * b] + s16[2 * b + 1]));
  // Non-finite activations count as 0.
  std::vector<float> dirty = x, clean = x;
  dirty[40] = std::numeric_limits<float>::quiet_NaN();
  dirty[41] = INFINITY;
  clean[40] = clean[41] = 0.0f;
  std::vector<int8_t> q2(n), q3(n);
  std::vector<float> d2(n / 32), d3(n / 32);
  std::vector<int16_t> s2(n / 16), s3(n / 16);
  std::vector<float> ds2(n / 32), ds3(n / 32);
  quantize_acts(dirty.data(), n, q2.data(), d2.data(), s2.data(), ds2.data());
  quantize_acts(clean.data(), n, q3.data(), d3.data(), s3.data(), ds3.data());
  CHECK(q2 == q3);
  CHECK(d2 == d3);
  CHECK(s2 == s3);
  CHECK(ds2 == ds3);
}

}  // TEST_SUITE
