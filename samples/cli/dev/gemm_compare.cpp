#include "dev/gemm_compare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backends/cpu/ops/act_a8.h"
#include "backends/cpu/ops/matmul.h"
#include "dev/synth_values.h"
#include "format/dtype.h"
#include "util/error.h"
#include "util/thread_pool.h"

#ifdef ERNIE_HAVE_DNNL
#include <omp.h>

#include <dnnl.hpp>
#endif

namespace ernie::dev {

#ifndef ERNIE_HAVE_DNNL

bool gemm_compare_available() { return false; }

std::vector<GemmCase> compare_gemm(int, int) {
  ERNIE_FAIL(ERNIE_E_UNSUPPORTED, "this ernie was built without oneDNN (libdnnl-dev): no GEMM comparison");
}

#else

namespace {

using Clock = std::chrono::steady_clock;

// Best of `repeats` timings of fn (after one untimed call), in milliseconds.
template <typename Fn>
double best_ms(int repeats, Fn&& fn) {
  fn();
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

// The batched products of a 128-token prompt on ERNIE-4.5-21B-A3B (hidden
// 2560, 20/4 heads of 128, dense MLP 12288 in layer 0, experts 1536 wide, 2
// shared experts as one MLP of 3072, top-6 of 64 experts: 12 tokens per
// routed expert on average), with the q4 recipe's types (quantization.md).
// Gate and up projections count as one matrix of both widths.
struct Shape {
  const char* name;
  DType type;
  long long m, k, n;
};
constexpr Shape kShapes[] = {
    {"attention q/k/v", DType::Q6, 128, 2560, 2560 + 2 * 512},
    {"attention output", DType::Q6, 128, 2560, 2560},
    {"dense MLP gate+up (layer 0)", DType::Q4X8, 128, 2560, 2 * 12288},
    {"dense MLP down (layer 0)", DType::Q4X8, 128, 12288, 2560},
    {"shared experts gate+up", DType::Q4X8, 128, 2560, 2 * 3072},
    {"shared experts down", DType::Q4X8, 128, 3072, 2560},
    {"routed expert gate+up", DType::Q4X8, 12, 2560, 2 * 1536},
    {"routed expert down", DType::Q4X8, 12, 1536, 2560},
};

GemmCase run_case(const Shape& s, ThreadPool& pool, dnnl::engine& eng, dnnl::stream& strm, int repeats) {
  using dnnl::memory;
  using dt = memory::data_type;
  using tag = memory::format_tag;
  GemmCase c;
  c.name = s.name;
  c.type = dtype_name(s.type);
  c.m = s.m;
  c.k = s.k;
  c.n = s.n;

  // Stored weights as the model holds them, and random activations.
  const uint64_t row_bytes = dtype_row_bytes(s.type, static_cast<uint64_t>(s.k));
  std::vector<uint8_t> stored(row_bytes * static_cast<uint64_t>(s.n));
  const uint64_t blocks_per_row = row_bytes / dtype_block_bytes(s.type);
  const int64_t group = static_cast<int64_t>(dtype_row_group(s.type));  // rows written together (q4x8: 8)
  pool.parallel_for(s.n / group, [&](int64_t g, int) {
    const auto r = static_cast<uint64_t>(g * group);
    synth_blocks(tensor_key(1, s.name), s.type, ValueLaw{}, r * blocks_per_row,
                 blocks_per_row * static_cast<uint64_t>(group), stored.data() + r * row_bytes);
  });
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(s.m * s.k));
  for (float& v : x) v = normal(rng);

  // This project's path: A8 quantization of the input, then the integer kernels.
  TensorView w;
  w.type = s.type;
  w.rows = s.n;
  w.cols = s.k;
  w.row_bytes = row_bytes;
  w.data = stored.data();
  ActA8 acts;
  acts.reserve(s.m, s.m * s.k);
  std::vector<float> y(static_cast<size_t>(s.m * s.n));
  std::vector<float> scratch(static_cast<size_t>(matmul_scratch_floats(pool.size(), s.k)));
  c.ours_ms = best_ms(repeats, [&] {
    acts.quantize(x.data(), s.m, s.k, s.k, pool);
    MatJob job;
    job.w = &w;
    job.in = {x.data(), s.k, acts.rows(), nullptr, s.m};
    job.y = y.data();
    job.ldy = s.n;
    run_matmuls(&job, 1, pool, scratch.data());
  });

  const std::vector<float> ours = y;

  // What oneDNN's f32 GEMM would first need on every call: the weights in f32.
  std::vector<float> wf(static_cast<size_t>(s.n * s.k));
  c.dequant_ms = best_ms(repeats, [&] {
    pool.parallel_for(s.n / group, [&](int64_t g, int) {
      const int64_t r = g * group;
      convert_to_f32(s.type, stored.data() + static_cast<uint64_t>(r) * row_bytes, wf.data() + r * s.k,
                     static_cast<size_t>(group * s.k));
    });
  });

  // oneDNN f32: y[M,N] = x[M,K] * W^T, W stored [N,K] (format ba of a KxN matrix).
  {
    const memory::desc src({s.m, s.k}, dt::f32, tag::ab), wei({s.k, s.n}, dt::f32, tag::ba),
        dst({s.m, s.n}, dt::f32, tag::ab);
    const dnnl::matmul prim(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), eng));
    memory ms(src, eng, x.data()), mw(wei, eng, wf.data()), md(dst, eng, y.data());
    c.dnnl_f32_ms = best_ms(repeats, [&] {
      prim.execute(strm, {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}});
      strm.wait();
    });
    // Both engines computed the same product (ours from 8-bit activations:
    // within a few percent of the output's spread).
    double err = 0, ref = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      err += (y[i] - ours[i]) * (y[i] - ours[i]);
      ref += y[i] * y[i];
    }
    ERNIE_CHECK(err <= 1e-3 * ref, ERNIE_E_INTERNAL, "%s: oneDNN f32 and ernie disagree (relative error %.3g)",
                s.name, std::sqrt(err / ref));
  }

  // oneDNN int8: the best case for it, s8 inputs and an s8 copy of the
  // weights with one scale per output row (a copy the model cannot afford
  // next to its packed file, and coarser than the packed blocks).
  {
    std::vector<int8_t> xs(x.size()), ws(static_cast<size_t>(s.n * s.k));
    for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<int8_t>(std::clamp(x[i] * 40.0f, -127.0f, 127.0f));  // ~N(0, 40)
    for (size_t i = 0; i < ws.size(); ++i) ws[i] = static_cast<int8_t>(std::clamp(wf[i] / 0.02f * 40.0f, -127.0f, 127.0f));
    const memory::desc src({s.m, s.k}, dt::s8, tag::ab), wei({s.k, s.n}, dt::s8, tag::ba),
        dst({s.m, s.n}, dt::f32, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_output_scales(1 << 1, std::vector<float>(static_cast<size_t>(s.n), 1e-5f));
    const dnnl::matmul prim(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), attr, eng));
    memory ms(src, eng, xs.data()), mw(wei, eng, ws.data()), md(dst, eng, y.data());
    c.dnnl_s8_ms = best_ms(repeats, [&] {
      prim.execute(strm, {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}});
      strm.wait();
    });
    // Spot checks: 64 outputs spread over the result against exact integer dot products.
    for (long long t = 0; t < 64; ++t) {
      const long long i = (t * 7919) % s.m, r = (t * 104729) % s.n;
      int64_t dot = 0;
      for (long long e = 0; e < s.k; ++e) dot += int64_t{xs[i * s.k + e]} * ws[r * s.k + e];
      const float want = static_cast<float>(dot) * 1e-5f, got = y[i * s.n + r];
      ERNIE_CHECK(std::fabs(got - want) <= 1e-3f * std::fabs(want) + 1e-4f, ERNIE_E_INTERNAL,
                  "%s: oneDNN s8 gave %g at (%lld, %lld), expected %g", s.name, got, i, r, want);
    }
  }
  return c;
}

}  // namespace

bool gemm_compare_available() { return true; }

std::vector<GemmCase> compare_gemm(int n_threads, int repeats) {
  omp_set_num_threads(n_threads);  // Debian's oneDNN runs on OpenMP
  ThreadPool pool(n_threads);
  std::vector<GemmCase> out;
  try {
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream strm(eng);
    for (const Shape& s : kShapes) out.push_back(run_case(s, pool, eng, strm, repeats));
  } catch (const dnnl::error& e) {
    ERNIE_FAIL(ERNIE_E_BACKEND, "oneDNN: %s", e.what());
  }
  return out;
}

#endif  // ERNIE_HAVE_DNNL

}  // namespace ernie::dev
