// The quantized dot kernels (backends/cpu/kernels): every SIMD variant this
// CPU runs against the scalar reference, and the scalar reference against a
// float64 dot of the dequantized values (quant::dequantize_row). Inputs:
// random blocks, zero blocks, extreme f16 scales (largest and smallest
// normal, subnormal), extreme codes and activations, 1/6/10-block rows and
// 1..4 activation rows per call. Tolerances are relative to the sum of the
// magnitudes of the terms a kernel forms (scale and min parts separately, as
// float rounding is relative to those).
#include <doctest/doctest.h>

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/kernels/quant_dot_variants.h"
#include "format/dtype.h"
#include "platform/platform.h"
#include "quant/blocks.h"
#include "quant/quantize.h"
#include "util/error.h"
#include "support/quant_rows.h"

using ernie::DType;
using ernie::cpu::Isa;
using ernie::quant::ActRowA8;

using namespace quant_rows;

namespace {

constexpr DType kTypes[] = {DType::Q8, DType::Q6, DType::Q4, DType::Q2};

// The test's own reading of blocks.h, value by value: w[i] = scaled[i] - mins[i].
struct Decoded {
  std::vector<double> scaled;
  std::vector<double> mins;
};

Decoded decode(DType t, const std::vector<uint8_t>& row, int64_t n) {
  using namespace ernie::quant;
  Decoded out{std::vector<double>(n), std::vector<double>(n, 0.0)};
  const int64_t per = block_values(t);
  for (int64_t b = 0; b < n / per; ++b) {
    const uint8_t* blk = row.data() + b * block_bytes(t);
    for (int v = 0; v < per; ++v) {
      double& s = out.scaled[b * per + v];
      double& m = out.mins[b * per + v];
      if (t == DType::Q8) {
        const auto& k = *reinterpret_cast<const BlockQ8*>(blk);
        s = double(ernie::f16_to_f32(k.d)) * k.q[v];
      } else if (t == DType::Q6) {
        const auto& k = *reinterpret_cast<const BlockQ6*>(blk);
        const int low = (k.ql[32 * (v / 64) + v % 32] >> (4 * ((v / 32) % 2))) & 15;
        const int high = (k.qh[32 * (v / 128) + v % 32] >> (2 * ((v / 32) % 4))) & 3;
        s = double(ernie::f16_to_f32(k.d)) * k.scales[v / 16] * ((low | high << 4) - 32);
      } else if (t == DType::Q4) {
        const auto& k = *reinterpret_cast<const BlockQ4*>(blk);
        int sc = 0, mn = 0;
        q4_scale_min(k.scales, v / 32, &sc, &mn);
        const int q = (k.qs[32 * (v / 64) + v % 32] >> (4 * ((v / 32) % 2))) & 15;
        s = double(ernie::f16_to_f32(k.d)) * sc * q;
        m = double(ernie::f16_to_f32(k.dmin)) * mn;
      } else {
        const auto& k = *reinterpret_cast<const BlockQ2*>(blk);
        const int q = (k.qs[32 * (v / 128) + v % 32] >> (2 * ((v / 32) % 4))) & 3;
        s = double(ernie::f16_to_f32(k.d)) * (k.scales[v / 16] & 15) * q;
        m = double(ernie::f16_to_f32(k.dmin)) * (k.scales[v / 16] >> 4);
      }
    }
  }
  return out;
}

// Sum of |terms| the kernels form for this row and activations: the bound
// float rounding is relative to.
double magnitude(const Decoded& w, const Acts& a) {
  double sum = 0.0;
  for (size_t i = 0; i < w.scaled.size(); ++i) {
    sum += (std::fabs(w.scaled[i]) + std::fabs(w.mins[i])) * std::fabs(double(a.d[i / 32]) * a.q[i]);
  }
  return sum;
}

double exact_dot(const std::vector<float>& w, const Acts& a) {
  double sum = 0.0;
  for (size_t i = 0; i < w.size(); ++i) sum += double(w[i]) * (double(a.d[i / 32]) * a.q[i]);
  return sum;
}

// Runs the kernel of (t, isa) on `row` with the first n_acts of `acts`.
std::vector<float> run(DType t, Isa isa, const std::vector<uint8_t>& row, const std::vector<Acts>& acts,
                       int n_acts, int64_t n) {
  std::vector<ActRowA8> views;
  for (int j = 0; j < n_acts; ++j) views.push_back(acts[j].view());
  std::vector<float> out(n_acts, NAN);
  ernie::cpu::quant_dot_kernel(t, isa)(row.data(), views.data(), n_acts, n, out.data());
  return out;
}

constexpr double kRelTolerance = 1e-5;  // float accumulation order differs between variants

// Every ISA and every n_acts against the scalar reference on one row; also
// that a row's result does not depend on how many rows share the call
// (prefill and decode must agree bit for bit), and that the avx512gfni
// kernels (the same arithmetic, other unpacking) give the avx512 bits.
void check_against_reference(DType t, const std::vector<uint8_t>& row, const std::vector<Acts>& acts, int64_t n) {
  const Decoded w = decode(t, row, n);
  const std::vector<float> ref = run(t, Isa::Scalar, row, acts, 4, n);
  for (Isa isa : isas_to_test()) {
    CAPTURE(ernie::cpu::isa_name(isa));
    std::vector<float> single(4);
    for (int j = 0; j < 4; ++j) single[j] = run(t, isa, row, {acts[j]}, 1, n)[0];
    for (int n_acts = 1; n_acts <= 4; ++n_acts) {
      CAPTURE(n_acts);
      const std::vector<float> got = run(t, isa, row, acts, n_acts, n);
      for (int j = 0; j < n_acts; ++j) {
        CAPTURE(j);
        const double tol = kRelTolerance * magnitude(w, acts[j]);
        CHECK(std::fabs(double(got[j]) - ref[j]) <= tol);
        CHECK(got[j] == single[j]);
      }
      if (isa == Isa::Avx512Gfni) CHECK(got == run(t, Isa::Avx512Vnni, row, acts, n_acts, n));
    }
  }
}

std::vector<Acts> random_act_rows(int64_t n, std::mt19937& rng) {
  std::vector<Acts> acts;
  for (int j = 0; j < 4; ++j) acts.push_back(random_acts(n, rng));
  return acts;
}

}  // namespace

TEST_SUITE("quant_dot") {
  TEST_CASE("quant_dot: kernel table, ISA names and ERNIE_CPU_ISA") {
    for (DType t : kTypes) {
      for (Isa isa : ernie::cpu::kIsas) {
        CHECK(static_cast<bool>(ernie::cpu::quant_dot_kernel(t, isa)));
      }
    }
    for (DType t : {DType::F32, DType::F16, DType::BF16}) {
      CHECK_FALSE(static_cast<bool>(ernie::cpu::quant_dot_kernel(t, Isa::Scalar)));
    }
    CHECK(std::string(ernie::cpu::isa_name(Isa::Scalar)) == "scalar");
    CHECK(std::string(ernie::cpu::isa_name(Isa::Avx2)) == "avx2");
    CHECK(std::string(ernie::cpu::isa_name(Isa::Avx512Vnni)) == "avx512");
    CHECK(std::string(ernie::cpu::isa_name(Isa::Avx512Gfni)) == "avx512gfni");
    // A request above what the CPU has is served by what it has.
    const bool same = ernie::cpu::quant_dot_kernel(DType::Q4, Isa::Avx512Gfni) ==
                      ernie::cpu::quant_dot_kernel(DType::Q4, ernie::cpu::cpu_supported_isa());
    CHECK(same);
    // Where the CPU has GFNI, the types with bit-field codes get their own
    // kernel at that level; q8 has none and keeps its avx512 kernel.
    if (ernie::cpu::cpu_supported_isa() == Isa::Avx512Gfni) {
      for (DType t : kTypes) {
        const bool own = ernie::cpu::quant_dot_kernel(t, Isa::Avx512Gfni) != ernie::cpu::quant_dot_kernel(t, Isa::Avx512Vnni);
        CHECK(own == (t != DType::Q8));
      }
    }

    const char* saved = std::getenv("ERNIE_CPU_ISA");
    const std::string saved_value = saved ? saved : "";
    const Isa best = ernie::cpu::cpu_supported_isa();
    unsetenv("ERNIE_CPU_ISA");
    CHECK(ernie::cpu::detect_isa() == best);
    setenv("ERNIE_CPU_ISA", "scalar", 1);
    CHECK(ernie::cpu::detect_isa() == Isa::Scalar);
    setenv("ERNIE_CPU_ISA", "avx2", 1);
    CHECK(ernie::cpu::detect_isa() == std::min(Isa::Avx2, best));
    setenv("ERNIE_CPU_ISA", "avx512", 1);
    CHECK(ernie::cpu::detect_isa() == std::min(Isa::Avx512Vnni, best));
    setenv("ERNIE_CPU_ISA", "avx512gfni", 1);
    CHECK(ernie::cpu::detect_isa() == best);
    setenv("ERNIE_CPU_ISA", "sse9", 1);
    CHECK_THROWS_WITH_AS(ernie::cpu::detect_isa(), doctest::Contains("ERNIE_CPU_ISA='sse9'"), ernie::Error);
    setenv("ERNIE_CPU_ISA", "avx\xff" "2", 1);  // not UTF-8: escaped in the message
    CHECK_THROWS_WITH_AS(ernie::cpu::detect_isa(), doctest::Contains("ERNIE_CPU_ISA='avx\\xff2'"), ernie::Error);
    if (saved) {
      setenv("ERNIE_CPU_ISA", saved_value.c_str(), 1);
    } else {
      unsetenv("ERNIE_CPU_ISA");
    }
  }

  TEST_CASE("quant_dot: bad arguments are refused") {
    std::mt19937 rng(1);
    const std::vector<Acts> acts = random_act_rows(512, rng);
    for (DType t : kTypes) {
      const std::vector<uint8_t> row = random_row(t, 512, rng);
      for (Isa isa : isas_to_test()) {
        CAPTURE(ernie::cpu::isa_name(isa));
        CHECK_THROWS_AS(run(t, isa, row, acts, 0, 512), ernie::Error);
        std::vector<Acts> five = acts;
        five.push_back(acts[0]);
        CHECK_THROWS_AS(run(t, isa, row, five, 5, 512), ernie::Error);
        CHECK_THROWS_WITH(run(t, isa, row, acts, 1, block_values(t) + 16),
                          doctest::Contains("not a whole number"));
      }
    }
  }

  TEST_CASE("quant_dot: SIMD variants match the scalar reference on random blocks") {
    for (DType t : kTypes) {
      CAPTURE(ernie::dtype_name(t));
      for (int blocks : {1, 6, 10}) {
        const int64_t n = blocks * block_values(t);
        CAPTURE(n);
        for (uint32_t seed = 0; seed < 12; ++seed) {
          std::mt19937 rng(seed * 7919 + blocks);
          check_against_reference(t, random_row(t, n, rng), random_act_rows(n, rng), n);
        }
      }
    }
  }

  TEST_CASE("quant_dot: model row lengths (2560 and 1536 columns)") {
    std::mt19937 rng(42);
    for (DType t : kTypes) {
      CAPTURE(ernie::dtype_name(t));
      for (int64_t n : {2560, 1536}) check_against_reference(t, random_row(t, n, rng), random_act_rows(n, rng), n);
    }
  }

  TEST_CASE("quant_dot: zero blocks and zero activations give exactly 0") {
    std::mt19937 rng(3);
    for (DType t : kTypes) {
      CAPTURE(ernie::dtype_name(t));
      const int64_t n = 6 * block_values(t);
      const std::vector<uint8_t> zero_row(ernie::dtype_row_bytes(t, n), 0);
      const std::vector<Acts> acts = random_act_rows(n, rng);
      std::vector<Acts> zero_acts(4, constant_acts(n, 0, 1.0f));
      const std::vector<uint8_t> row = random_row(t, n, rng);
      for (Isa isa : isas_to_test()) {
        CAPTURE(ernie::cpu::isa_name(isa));
        for (float v : run(t, isa, zero_row, acts, 4, n)) CHECK(v == 0.0f);
        for (float v : run(t, isa, row, zero_acts, 4, n)) CHECK(v == 0.0f);
      }
    }
  }

  TEST_CASE("quant_dot: extreme f16 scales") {
    // Largest normal, smallest normal, largest and smallest subnormal, 1.0.
    const uint16_t scales[] = {0x7BFF, 0x0400, 0x03FF, 0x0001, 0x3C00};
    std::mt19937 rng(5);
    for (DType t : kTypes) {
      CAPTURE(ernie::dtype_name(t));
      const int64_t n = 6 * block_values(t);
      for (uint16_t s : scales) {
        CAPTURE(s);
        std::vector<uint8_t> row = random_row(t, n, rng);
        for (size_t off = 0; off < row.size(); off += block_bytes(t)) {
          for (size_t f : f16_fields(t)) set_f16(&row[off + f], s);
        }
        check_against_reference(t, row, random_act_rows(n, rng), n);
        // Only d extreme, or only dmin, the other one ordinary.
        for (size_t field : f16_fields(t)) {
          std::vector<uint8_t> mixed = random_row(t, n, rng);
          for (size_t off = 0; off < mixed.size(); off += block_bytes(t)) set_f16(&mixed[off + field], s);
          check_against_reference(t, mixed, random_act_rows(n, rng), n);
        }
      }
    }
  }

  TEST_CASE("quant_dot: extreme codes and activations") {
    // Bytes 0xFF: every code and packed scale/min at its maximum (q6 scales
    // -1, q8 codes -1); 0x7F and 0x80: q8 codes +127 / -128 and q6 scales
    // +127 / -128; 0x00: every code 0 (q6: -32, q8: 0).
    for (DType t : kTypes) {
      CAPTURE(ernie::dtype_name(t));
      const int64_t n = 10 * block_values(t);
      for (uint8_t fill : {0xFF, 0x7F, 0x80, 0x00, 0xAA, 0x55}) {
        CAPTURE(int(fill));
        const std::vector<uint8_t> row = filled_row(t, n, fill, 0x3C00);
        for (int code : {127, -127}) {
          const std::vector<Acts> acts(4, constant_acts(n, code, 1.0f));
          check_against_reference(t, row, acts, n);
          std::vector<float> w(n);
          ernie::quant::dequantize_row(t, row.data(), w.data(), n);
          const double got = run(t, Isa::Scalar, row, acts, 1, n)[0];
          CHECK(std::fabs(got - exact_dot(w, acts[0])) <= kRelTolerance * magnitude(decode(t, row, n), acts[0]));
        }
      }
    }
  }

  TEST_CASE("quant_dot: the scalar reference equals a float64 dot of dequantized values") {
    for (DType t : kTypes) {
      CAPTURE(ernie::dtype_name(t));
      for (int blocks : {1, 6, 10}) {
        const int64_t n = blocks * block_values(t);
        for (uint32_t seed = 0; seed < 20; ++seed) {
          std::mt19937 rng(seed + 100 * blocks);
          const std::vector<uint8_t> row = random_row(t, n, rng);
          const Acts a = random_acts(n, rng);
          std::vector<float> w(n);
          ernie::quant::dequantize_row(t, row.data(), w.data(), n);
          // The test's own decoding agrees with dequantize_row (both read blocks.h).
          const Decoded mine = decode(t, row, n);
          for (int64_t i = 0; i < n; ++i) {
            REQUIRE(std::fabs(w[i] - (mine.scaled[i] - mine.mins[i])) <=
                    1e-6 * (std::fabs(mine.scaled[i]) + std::fabs(mine.mins[i])));
          }
          const double got = run(t, Isa::Scalar, row, {a}, 1, n)[0];
          CHECK(std::fabs(got - exact_dot(w, a)) <= kRelTolerance * magnitude(mine, a));
        }
      }
    }
  }
}

// Throughput, printed, not asserted: one thread, weight rows one after
// another through a matrix larger than the caches (decode: 1 activation
// row, GB/s of weight bytes; the same on a 128 KB slice that stays in L2,
// the compute limit), and 4 activation rows (prefill: GOPS, one
// multiply-add = 2 ops). Timed in process CPU time, so other work on a
// shared machine counts less. ERNIE_QUANT_PERF_MB sets the matrix size (256).
TEST_SUITE("quant_dot_perf slow") {
  TEST_CASE("quant_dot: throughput per type and ISA") {
    const char* mb_env = std::getenv("ERNIE_QUANT_PERF_MB");
    const int64_t matrix_bytes = (mb_env ? std::atoll(mb_env) : 256) << 20;
    std::mt19937 rng(9);
    // Best of 3 of fn over rows [0, rows), `passes` times, in CPU seconds per pass.
    auto time_rows = [](auto&& fn, int64_t rows, int passes) {
      double best = 1e30;
      for (int rep = 0; rep < 3; ++rep) {
        const std::clock_t start = std::clock();
        for (int p = 0; p < passes; ++p) {
          for (int64_t r = 0; r < rows; ++r) fn(r);
        }
        best = std::min(best, double(std::clock() - start) / CLOCKS_PER_SEC / passes);
      }
      return best;
    };
    std::printf("type isa    cols  | n_acts=1 GB/s  in-L2 GB/s | n_acts=4 GOPS\n");
    for (int64_t cols : {2560, 1536}) {
      std::vector<Acts> acts = random_act_rows(cols, rng);
      std::vector<ActRowA8> views;
      for (const Acts& a : acts) views.push_back(a.view());
      for (DType t : kTypes) {
        const int64_t row_bytes = static_cast<int64_t>(ernie::dtype_row_bytes(t, cols));
        const int64_t rows = matrix_bytes / row_bytes;
        const int64_t cached_rows = (128 << 10) / row_bytes;
        // In huge-page memory, as the model's weights are (platform.h).
        const uint64_t bytes = static_cast<uint64_t>(rows * row_bytes);
        std::unique_ptr<uint8_t, std::function<void(uint8_t*)>> storage(
            static_cast<uint8_t*>(ernie::alloc_streamed(bytes)), [bytes](uint8_t* p) { ernie::free_streamed(p, bytes); });
        REQUIRE(storage != nullptr);
        uint8_t* matrix = storage.get();
        for (int64_t r = 0; r < rows; ++r) {
          const std::vector<uint8_t> row = random_row(t, cols, rng);
          std::memcpy(&matrix[r * row_bytes], row.data(), row_bytes);
        }
        // What a plain read of the same bytes reaches, for comparison.
        uint64_t sink = 0;
        const double read = time_rows(
            [&](int64_t r) {
              const auto* w = reinterpret_cast<const uint64_t*>(&matrix[r * row_bytes]);
              uint64_t acc = 0;
              for (int64_t i = 0; i < row_bytes / 8; ++i) acc += w[i];
              sink += acc;
            },
            rows, 1);
        std::printf("%-4s read   %5lld | %13.1f   (sum of 64-bit words; %llu)\n", ernie::dtype_name(t),
                    static_cast<long long>(cols), double(bytes) / read * 1e-9, static_cast<unsigned long long>(sink & 1));
        std::vector<float> out(rows * 4);
        for (Isa isa : isas_to_test()) {
          const ernie::cpu::QuantDotFn fn = ernie::cpu::quant_dot_kernel(t, isa);
          auto one = [&](int64_t r) { fn(&matrix[r * row_bytes], views.data(), 1, cols, &out[r]); };
          auto four = [&](int64_t r) { fn(&matrix[r * row_bytes], views.data(), 4, cols, &out[4 * r]); };
          const double decode = time_rows(one, rows, 1);
          const double cached = time_rows(one, cached_rows, 200);
          const double prefill = time_rows(four, rows, 1);
          std::printf("%-4s %-6s %5lld | %13.1f %11.1f | %13.0f\n", ernie::dtype_name(t), ernie::cpu::isa_name(isa),
                      static_cast<long long>(cols), double(rows * row_bytes) / decode * 1e-9,
                      double(cached_rows * row_bytes) / cached * 1e-9, 2.0 * 4 * rows * cols / prefill * 1e-9);
        }
      }
    }
  }
}
