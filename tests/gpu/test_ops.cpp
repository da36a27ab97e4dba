// The elementwise and small-reduction kernels of backends/cuda/kernels/ops.cu
// against their CPU references: rmsnorm, RoPE and silu_mul
// (backends/cpu/ops/norm_rope), the f16 KV store (format/dtype's f32_to_f16),
// the MoE router (backends/cpu/moe_router) and the rank-order combine of
// backends/cpu/moe_layer.cpp.
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/moe_router.h"
#include "backends/cpu/ops/norm_rope.h"
#include "backends/cuda/kernels/kernels.h"
#include "gpu/device_vec.h"
#include "format/dtype.h"

namespace {

using gpu_test::DeviceVec;

std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Counts the elements outside |got - want| <= abs_tol + rel_tol * |want| and
// reports the first with `what`.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, double abs_tol, double rel_tol,
                  const std::string& what) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(err <= abs_tol + rel_tol * std::fabs(static_cast<double>(want[i])))) {
      if (bad++ == 0) first = i;
    }
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << got.size() << " differ; first at " << first << ": got "
                                << got[first] << ", want " << want[first]);
}

}  // namespace

TEST_CASE("gpu ops: rmsnorm matches the CPU") {
  for (int64_t n : {1, 100, 2560, 16384}) {
    const int64_t rows = 3;
    const auto x = random_floats(static_cast<size_t>(rows * n), -3, 3, 1 + static_cast<uint32_t>(n));
    const auto w = random_floats(static_cast<size_t>(n), 0.5f, 1.5f, 2);
    std::vector<float> want(x.size());
    for (int64_t r = 0; r < rows; ++r) ernie::rmsnorm(&x[r * n], w.data(), 1e-5f, &want[r * n], n);
    DeviceVec<float> dx(x), dw(w), dout(std::vector<float>(x.size(), 0));
    ernie::cuda::rmsnorm(dx.p, dw.p, 1e-5f, dout.p, rows, n, nullptr);
    expect_close(dout.download(), want, 0, 1e-6, "rmsnorm n=" + std::to_string(n));
  }
}

TEST_CASE("gpu ops: interleaved RoPE matches the CPU at small and large positions") {
  const double theta = 500000;
  for (int64_t hd : {64, 128}) {
    for (int32_t pos0 : {0, 1, 1000, 131000}) {
      const int64_t n_tok = 5, n_heads = 3, dim = n_heads * hd;
      const auto v = random_floats(static_cast<size_t>(n_tok * dim), -2, 2, 3 + static_cast<uint32_t>(pos0));
      std::vector<double> inv_freq(static_cast<size_t>(hd / 2));
      ernie::rope_inv_freq(theta, hd, inv_freq.data());
      auto want = v;
      for (int64_t t = 0; t < n_tok; ++t) ernie::rope_interleaved(&want[t * dim], n_heads, hd, pos0 + t, inv_freq.data());
      DeviceVec<float> dv(v);
      DeviceVec<int32_t> dpos(std::vector<int32_t>{pos0});
      ernie::cuda::rope_interleaved(dv.p, n_tok, n_heads, hd, theta, dpos.p, nullptr);
      expect_close(dv.download(), want, 1e-6, 1e-6,
                   "rope head_dim=" + std::to_string(hd) + " pos0=" + std::to_string(pos0));
    }
  }
}

TEST_CASE("gpu ops: silu_mul over strided rows leaves the padding alone") {
  const int64_t rows = 4, n = 1000, ldg = 1003, ldu = 1010;
  const auto g = random_floats(static_cast<size_t>(rows * ldg), -8, 8, 4);
  const auto u = random_floats(static_cast<size_t>(rows * ldu), -2, 2, 5);
  auto want = g;
  for (int64_t r = 0; r < rows; ++r) ernie::silu_mul(&want[r * ldg], &u[r * ldu], n);
  DeviceVec<float> dg(g), du(u);
  ernie::cuda::silu_mul(dg.p, ldg, du.p, ldu, rows, n, nullptr);
  expect_close(dg.download(), want, 1e-7, 1e-6, "silu_mul");
}

TEST_CASE("gpu ops: store_kv_f16 rounds to nearest even at the device position") {
  const int64_t n_tok = 3, kv_dim = 512, n_pos = 16;
  const int32_t pos0 = 7;
  auto k = random_floats(static_cast<size_t>(n_tok * kv_dim), -4, 4, 6);
  auto v = random_floats(static_cast<size_t>(n_tok * kv_dim), -4, 4, 7);
  // Halfway cases, the f16 range's edges, subnormals and signed zeros.
  const float special[] = {0.0f, -0.0f, 65504.0f, 65519.0f, 65520.0f, -70000.0f, 1e-8f, -3e-6f, 6.1e-5f,
                           1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, 2049.0f, 2051.0f};
  for (size_t i = 0; i < std::size(special); ++i) k[i] = v[v.size() - 1 - i] = special[i];
  const uint16_t sentinel = 0xabcd;
  DeviceVec<float> dk(k), dv(v);
  DeviceVec<uint16_t> kc(std::vector<uint16_t>(n_pos * kv_dim, sentinel)), vc(std::vector<uint16_t>(n_pos * kv_dim, sentinel));
  DeviceVec<int32_t> dpos(std::vector<int32_t>{pos0});
  ernie::cuda::store_kv_f16(dk.p, dv.p, kc.p, vc.p, n_tok, kv_dim, dpos.p, nullptr);
  const auto got_k = kc.download(), got_v = vc.download();
  size_t bad = 0;
  for (int64_t p = 0; p < n_pos; ++p) {
    for (int64_t i = 0; i < kv_dim; ++i) {
      const int64_t t = p - pos0;
      const bool written = t >= 0 && t < n_tok;
      const uint16_t want_k = written ? ernie::f32_to_f16(k[t * kv_dim + i]) : sentinel;
      const uint16_t want_v = written ? ernie::f32_to_f16(v[t * kv_dim + i]) : sentinel;
      bad += got_k[p * kv_dim + i] != want_k;
      bad += got_v[p * kv_dim + i] != want_v;
    }
  }
  CHECK_MESSAGE(bad == 0, "store_kv_f16: " << bad << " cache values differ");
}

namespace {

struct RouterCase {
  const char* name;
  int64_t n_tok, n_experts, k;
  bool bias;
  double norm_min;
  int logit_levels;  // > 0: logits take only this many values, so probabilities tie
};

void check_router(const RouterCase& c) {
  CAPTURE(c.name);
  std::vector<float> logits = random_floats(static_cast<size_t>(c.n_tok * c.n_experts), -4, 4, 8);
  if (c.logit_levels > 0) {
    for (auto& x : logits) x = std::floor((x + 4) / 8 * c.logit_levels) * 0.5f;
  }
  std::vector<float> bias = random_floats(static_cast<size_t>(c.n_experts), -0.05f, 0.05f, 9);
  if (c.logit_levels > 0) {
    for (size_t e = 0; e < bias.size(); ++e) bias[e] = (e % 3) * 0.125f;  // ties survive the bias
  }
  std::vector<int32_t> want_e(static_cast<size_t>(c.n_tok * c.k));
  std::vector<float> want_w(want_e.size()), probs(static_cast<size_t>(c.n_experts));
  std::vector<ernie::ExpertChoice> choice(static_cast<size_t>(c.k));
  for (int64_t t = 0; t < c.n_tok; ++t) {
    ernie::route_token(&logits[t * c.n_experts], c.bias ? bias.data() : nullptr, c.n_experts, c.k, c.norm_min,
                       probs.data(), choice.data());
    for (int64_t j = 0; j < c.k; ++j) {
      want_e[t * c.k + j] = choice[j].expert;
      want_w[t * c.k + j] = choice[j].weight;
    }
  }
  DeviceVec<float> dl(logits), db(bias), dw(std::vector<float>(want_w.size(), -1));
  DeviceVec<int32_t> de(std::vector<int32_t>(want_e.size(), -1));
  ernie::cuda::route_topk(dl.p, c.bias ? db.p : nullptr, c.n_tok, c.n_experts, c.k, c.norm_min, de.p, dw.p, nullptr);
  const auto got_e = de.download();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < got_e.size(); ++i) {
    if (got_e[i] != want_e[i] && bad++ == 0) first = i;
  }
  CHECK_MESSAGE(bad == 0, c.name << ": " << bad << " experts differ; first at " << first << ": got " << got_e[first]
                                 << ", want " << want_e[first]);
  expect_close(dw.download(), want_w, 0, 1e-6, std::string(c.name) + " weights");
}

}  // namespace

TEST_CASE("gpu ops: route_topk chooses and weighs experts like route_token") {
  const RouterCase cases[] = {
      {"k=6 of 64 with bias", 7, 64, 6, true, 1e-12, 0},
      {"k=6 of 64 without bias", 9, 64, 6, false, 1e-12, 0},
      {"ties go to the lower expert id", 6, 64, 6, false, 1e-12, 3},
      {"ties under a bias", 6, 64, 8, true, 1e-12, 2},
      {"all logits equal", 2, 64, 6, false, 1e-12, 1},
      {"norm_min above the chosen sum", 5, 64, 6, true, 2.0, 0},
      {"k=32 of 256", 3, 256, 32, true, 1e-12, 0},
      {"k=1 of 3", 4, 3, 1, false, 1e-12, 0},
      {"k=all of 40", 2, 40, 32, true, 1e-12, 0},
  };
  for (const auto& c : cases) check_router(c);
}

TEST_CASE("gpu ops: moe_combine sums ranks in order, with and without shared experts") {
  const int64_t n_tok = 3, k = 6, n = 1000;
  const auto x = random_floats(static_cast<size_t>(n_tok * n), -1, 1, 10);
  const auto moe_out = random_floats(static_cast<size_t>(n_tok * k * n), -1, 1, 11);
  const auto weight = random_floats(static_cast<size_t>(n_tok * k), 0, 0.5f, 12);
  const auto shared = random_floats(static_cast<size_t>(n_tok * n), -1, 1, 13);
  for (bool with_shared : {false, true}) {
    auto want = x;
    for (int64_t t = 0; t < n_tok; ++t) {
      for (int64_t i = 0; i < n; ++i) {
        float acc = 0;
        for (int64_t j = 0; j < k; ++j) acc += weight[t * k + j] * moe_out[(t * k + j) * n + i];
        if (with_shared) acc += shared[t * n + i];
        want[t * n + i] += acc;
      }
    }
    DeviceVec<float> dx(x), dm(moe_out), dw(weight), ds(shared);
    ernie::cuda::moe_combine(dx.p, dm.p, dw.p, with_shared ? ds.p : nullptr, n_tok, k, n, nullptr);
    expect_close(dx.download(), want, 1e-6, 1e-6, with_shared ? "moe_combine with shared" : "moe_combine");
  }
}

TEST_CASE("gpu ops: add_inplace and the row gather and scatter") {
  const int64_t n = 5000;
  const auto y = random_floats(n, -1, 1, 14), x = random_floats(n, -1, 1, 15);
  auto want = y;
  for (int64_t i = 0; i < n; ++i) want[i] += x[i];
  DeviceVec<float> dy(y), dx(x);
  ernie::cuda::add_inplace(dy.p, dx.p, n, nullptr);
  expect_close(dy.download(), want, 0, 0, "add_inplace");

  const int64_t ld = 300, cols = 257, n_src = 9;
  const std::vector<int32_t> rows = {4, 0, 8, 4, 2};
  const auto src = random_floats(static_cast<size_t>(n_src * ld), -1, 1, 16);
  std::vector<float> gathered(rows.size() * cols);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int64_t c = 0; c < cols; ++c) gathered[i * cols + c] = src[rows[i] * ld + c];
  }
  DeviceVec<float> dsrc(src), dgather(std::vector<float>(gathered.size(), 0));
  DeviceVec<int32_t> drows(rows);
  ernie::cuda::gather_act_rows(dsrc.p, ld, drows.p, static_cast<int64_t>(rows.size()), cols, dgather.p, nullptr);
  expect_close(dgather.download(), gathered, 0, 0, "gather_act_rows");

  // Scatter to distinct rows; the rest of dst keeps its values.
  const std::vector<int32_t> dst_rows = {3, 0, 7};
  const auto block = random_floats(dst_rows.size() * cols, -1, 1, 17);
  auto dst = random_floats(static_cast<size_t>(n_src * ld), -1, 1, 18);
  auto want_dst = dst;
  for (size_t i = 0; i < dst_rows.size(); ++i) {
    for (int64_t c = 0; c < cols; ++c) want_dst[dst_rows[i] * ld + c] = block[i * cols + c];
  }
  DeviceVec<float> dblock(block), ddst(dst);
  DeviceVec<int32_t> ddst_rows(dst_rows);
  ernie::cuda::scatter_act_rows(dblock.p, cols, ddst_rows.p, static_cast<int64_t>(dst_rows.size()), ddst.p, ld,
                                nullptr);
  expect_close(ddst.download(), want_dst, 0, 0, "scatter_act_rows");
}
