// Flash-decoding attention (backends/cuda/kernels/attention.cu) against the
// CPU's attention over the same f16 cache (backends/cpu/ops/attention):
// decode and batches at the start, middle and end of the context, GQA ratios
// 1, 2, 3, 5 and 12, every head_dim, a 128k context, and a CUDA graph
// captured once and replayed at several positions.
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/ops/attention.h"
#include "backends/cuda/kernels/kernels.h"
#include "gpu/device_vec.h"
#include "format/dtype.h"
#include "util/thread_pool.h"

namespace {

using gpu_test::DeviceVec;

// Cheap uniform values in [-1, 1): the 128k caches hold 67M of them.
struct Rng {
  uint64_t s;
  float next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<float>(s >> 40) * (2.0f / 16777216.0f) - 1.0f;
  }
};

struct Shape {
  int64_t n_heads, n_kv_heads, head_dim, n_ctx;
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  int64_t q_dim() const { return n_heads * head_dim; }
  std::string name() const {
    return std::to_string(n_heads) + "/" + std::to_string(n_kv_heads) + " heads, head_dim " +
           std::to_string(head_dim) + ", n_ctx " + std::to_string(n_ctx);
  }
};

struct Batch {
  int64_t n_tok, pos0;
};

// One shape's caches on host and device. Rows up to `filled` hold random
// values; the rest hold large ones that would dominate any output they
// leaked into.
struct Caches {
  std::vector<uint16_t> k, v;
  DeviceVec<uint16_t> dk, dv;
  Caches(const Shape& s, uint64_t seed)
      : k(static_cast<size_t>(s.n_ctx * s.kv_dim())),
        v(k.size()),
        dk(k.size()),
        dv(k.size()) {
    Rng rng{seed};
    for (size_t i = 0; i < k.size(); ++i) {
      k[i] = ernie::f32_to_f16(rng.next());
      v[i] = ernie::f32_to_f16(rng.next());
    }
    dk.upload(k);
    dv.upload(v);
  }
  // Rows from `from` on get the large values (on the host copy too, though
  // the CPU reference never reads them).
  void poison_from(const Shape& s, int64_t from) {
    std::vector<uint16_t> big_k(k), big_v(v);
    for (int64_t i = from * s.kv_dim(); i < s.n_ctx * s.kv_dim(); ++i) {
      big_k[static_cast<size_t>(i)] = ernie::f32_to_f16(8.0f);
      big_v[static_cast<size_t>(i)] = ernie::f32_to_f16(30.0f);
    }
    dk.upload(big_k);
    dv.upload(big_v);
  }
};

std::vector<float> random_q(const Shape& s, int64_t n_tok, uint64_t seed) {
  Rng rng{seed};
  std::vector<float> q(static_cast<size_t>(n_tok * s.q_dim()));
  for (auto& x : q) x = 3.0f * rng.next();  // scores of a few units: softmaxes neither flat nor one-hot
  return q;
}

std::vector<float> cpu_attention(const Shape& s, const Caches& c, const std::vector<float>& q, const Batch& b,
                                 ernie::ThreadPool& pool) {
  const ernie::AttentionShape cs{s.n_heads, s.n_kv_heads, s.head_dim};
  // The device cache's layout: [pos][kv head][head_dim].
  const ernie::KvLayer layer{c.k.data(), c.v.data(), true, s.kv_dim(), s.head_dim};
  std::vector<float> out(static_cast<size_t>(b.n_tok * s.q_dim()));
  std::vector<float> scratch(static_cast<size_t>(ernie::attention_scratch_floats(pool.size(), cs, b.pos0 + b.n_tok)));
  ernie::attention(q.data(), layer, b.pos0, b.n_tok, cs, out.data(), pool, scratch.data());
  return out;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(err <= 1e-5 + 1e-4 * std::fabs(static_cast<double>(want[i]))) && bad++ == 0) first = i;
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << got.size() << " outputs differ; first at " << first
                                << ": got " << got[first] << ", want " << want[first]);
}

// Runs every batch of `batches` on one shape with one partial buffer sized
// for the largest batch (as a runtime would).
void check_shape(const Shape& s, const std::vector<Batch>& batches, ernie::ThreadPool& pool) {
  const ernie::cuda::AttentionShape gs{s.n_heads, s.n_kv_heads, s.head_dim};
  Caches caches(s, 0x9e3779b97f4a7c15ull ^ static_cast<uint64_t>(s.head_dim * 131 + s.n_heads));
  int64_t max_tok = 0;
  for (const auto& b : batches) max_tok = std::max(max_tok, b.n_tok);
  DeviceVec<float> partial(static_cast<size_t>(std::max<int64_t>(1, ernie::cuda::attention_partial_floats(max_tok, s.n_ctx, gs))));
  DeviceVec<float> dq(static_cast<size_t>(max_tok * s.q_dim())), dout(static_cast<size_t>(max_tok * s.q_dim()));
  DeviceVec<int32_t> dpos(1);
  for (const auto& b : batches) {
    const std::string what = s.name() + ", n_tok " + std::to_string(b.n_tok) + ", pos0 " + std::to_string(b.pos0);
    CAPTURE(what);
    REQUIRE(b.pos0 + b.n_tok <= s.n_ctx);
    caches.poison_from(s, b.pos0 + b.n_tok);
    const auto q = random_q(s, b.n_tok, static_cast<uint64_t>(b.pos0 * 7 + b.n_tok + 1));
    const auto want = cpu_attention(s, caches, q, b, pool);
    dq.upload(q);
    dpos.upload({static_cast<int32_t>(b.pos0)});
    ernie::cuda::attention(dq.p, caches.dk.p, caches.dv.p, dpos.p, b.n_tok, s.n_ctx, gs, dout.p, partial.p, nullptr);
    expect_close(dout.download(want.size()), want, what);
  }
}

}  // namespace

TEST_CASE("gpu attention: matches the CPU over positions, batch sizes, GQA ratios and head dims") {
  ernie::ThreadPool pool(4);
  const std::vector<Batch> sweep = {{1, 0},  {1, 1},    {1, 31},  {1, 32},  {1, 1000}, {5, 0},    {5, 1},
                                    {5, 30}, {5, 1000}, {70, 0},  {70, 1},  {70, 1000}};
  const Shape shapes[] = {
      {20, 4, 128, 2048},  // ERNIE-4.5: 5 query heads per kv head
      {8, 8, 64, 1500},    // no sharing, a context that is not a multiple of the chunks
      {10, 2, 256, 1100},  // ratio 5 at the largest head_dim
      {4, 4, 256, 1100},   // ratio 1 at the largest head_dim
      {6, 2, 128, 1100},   // ratio 3: a partly filled head tile
      {4, 2, 16, 1100},    // the golden test models' small heads
      {4, 1, 32, 1100},
      {24, 2, 64, 1100},   // ratio 12: two head tiles per kv head
      {4, 2, 64, 1100},    // ratio 2
  };
  for (const auto& s : shapes) {
    std::vector<Batch> batches = sweep;
    for (int64_t n : {1, 5, 70}) batches.push_back({n, s.n_ctx - n});  // ending at the last position
    check_shape(s, batches, pool);
  }
}

TEST_CASE("gpu attention: prefill batches that need no split") {
  ernie::ThreadPool pool(4);
  check_shape({20, 4, 128, 1024}, {{256, 0}, {256, 100}, {300, 724}}, pool);
  check_shape({8, 8, 64, 1024}, {{300, 0}, {300, 724}}, pool);
}

TEST_CASE("gpu attention: decode at the end of a 128k context") {
  ernie::ThreadPool pool(4);
  const int64_t n_ctx = 131072;
  check_shape({20, 4, 128, n_ctx}, {{1, n_ctx - 1}, {1, 70000}, {5, n_ctx - 5}, {1, 4095}}, pool);
}

TEST_CASE("gpu attention: one captured graph replays at any position") {
  ernie::ThreadPool pool(4);
  const Shape s{20, 4, 128, 4096};
  const ernie::cuda::AttentionShape gs{s.n_heads, s.n_kv_heads, s.head_dim};
  Caches caches(s, 77);
  DeviceVec<float> partial(static_cast<size_t>(std::max<int64_t>(1, ernie::cuda::attention_partial_floats(1, s.n_ctx, gs))));
  DeviceVec<float> dq(static_cast<size_t>(s.q_dim())), dout(static_cast<size_t>(s.q_dim()));
  DeviceVec<int32_t> dpos(1);
  cudaStream_t stream = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) == cudaSuccess);
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  REQUIRE(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal) == cudaSuccess);
  ernie::cuda::attention(dq.p, caches.dk.p, caches.dv.p, dpos.p, 1, s.n_ctx, gs, dout.p, partial.p, stream);
  REQUIRE(cudaStreamEndCapture(stream, &graph) == cudaSuccess);
  REQUIRE(cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess);
  for (int64_t pos : {4095, 3, 0, 1000, 64, 2500}) {
    CAPTURE(pos);
    const Batch b{1, pos};
    caches.poison_from(s, pos + 1);
    const auto q = random_q(s, 1, static_cast<uint64_t>(pos + 5));
    dq.upload(q);
    dpos.upload({static_cast<int32_t>(pos)});
    REQUIRE(cudaGraphLaunch(exec, stream) == cudaSuccess);
    REQUIRE(cudaStreamSynchronize(stream) == cudaSuccess);
    expect_close(dout.download(q.size()), cpu_attention(s, caches, q, b, pool), "graph replay at " + std::to_string(pos));
  }
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}
