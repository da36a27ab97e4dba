#include "dev/attention_probe.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/ops/attention.h"
#include "dev/probes.h"
#include "format/dtype.h"
#include "platform/platform.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace ernie::dev {
namespace {

// ERNIE-4.5-21B-A3B.
constexpr int64_t kLayers = 28, kHeads = 20, kKvHeads = 4, kHeadDim = 128;
// About what one decoded token's weights take per layer at the q4 recipe
// (2.08 GB / 28): more than an L3.
constexpr uint64_t kBetweenBytes = uint64_t{72} << 20;
// The model's context (max_position_embeddings).
constexpr int64_t kMaxDepth = 131072;

// A buffer from alloc_streamed (huge pages, as the sessions' caches).
struct Streamed {
  uint64_t bytes;
  void* p;
  explicit Streamed(uint64_t n) : bytes(n), p(alloc_streamed(n)) {
    ERNIE_CHECK(p != nullptr, ERNIE_E_OUT_OF_MEMORY, "attention probe: cannot allocate %llu bytes",
                static_cast<unsigned long long>(n));
  }
  ~Streamed() { free_streamed(p, bytes); }
  Streamed(const Streamed&) = delete;
  Streamed& operator=(const Streamed&) = delete;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

AttentionTiming time_decode_attention(int n_threads, int64_t depth, int tokens) {
  ERNIE_CHECK(n_threads >= 1 && depth >= 0 && depth <= kMaxDepth && tokens >= 1, ERNIE_E_INVALID_ARGUMENT,
              "attention probe: needs threads >= 1, 0 <= depth <= %lld and tokens >= 1",
              static_cast<long long>(kMaxDepth));
  const int64_t len = depth + 1;
  const AttentionShape shape{kHeads, kKvHeads, kHeadDim};
  AttentionTiming r;
  r.depth = depth;
  r.isa = cpu::isa_name(cpu::detect_isa());
  r.layers = kLayers;
  r.between_bytes = kBetweenBytes;
  const uint64_t layer_values = static_cast<uint64_t>(len * kKvHeads * kHeadDim);
  r.kv_bytes = 2 * kLayers * layer_values * sizeof(uint16_t);
  // The caches, their source values and the buffer read between layers,
  // all touched: refused up front rather than left to the OOM killer.
  const uint64_t needed = r.kv_bytes + layer_values * sizeof(uint16_t) + kBetweenBytes;
  const uint64_t available = available_memory_bytes();
  ERNIE_CHECK(available == 0 || needed <= available, ERNIE_E_OUT_OF_MEMORY,
              "attention probe: depth %lld needs %.1f GB, %.1f GB available", static_cast<long long>(depth),
              needed / 1e9, available / 1e9);

  // Every layer's K and V: random f16 values (scores spread over a few
  // units, as in a model), [kv head][pos][head_dim].
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> values(layer_values);
  for (auto& v : values) v = f32_to_f16(normal(rng));
  std::vector<std::unique_ptr<Streamed>> k, v;
  for (int64_t l = 0; l < kLayers; ++l) {
    for (auto* side : {&k, &v}) {
      side->push_back(std::make_unique<Streamed>(layer_values * sizeof(uint16_t)));
      std::copy(values.begin(), values.end(), static_cast<uint16_t*>(side->back()->p));
    }
  }
  std::vector<float> q(static_cast<size_t>(kHeads * kHeadDim)), out(q.size());
  for (auto& x : q) x = 0.2f * normal(rng);
  ThreadPool pool(n_threads);
  std::vector<float> scratch(static_cast<size_t>(attention_scratch_floats(n_threads, shape, len)));
  Streamed between(kBetweenBytes);
  const size_t words = kBetweenBytes / 8;
  std::fill_n(static_cast<uint64_t*>(between.p), words, uint64_t{1});
  std::vector<uint64_t> sums(static_cast<size_t>(n_threads));

  // One token: every layer's attention, optionally after reading `between`
  // on the same threads (not timed). Returns ms. (Not ReadBandwidthProbe:
  // its own pool's threads would still spin while attention runs.)
  auto token = [&](bool reads) {
    double ms = 0;
    for (int64_t l = 0; l < kLayers; ++l) {
      if (reads) {
        pool.parallel_for(n_threads, [&](int64_t part, int) {
          const size_t b = words * static_cast<size_t>(part) / static_cast<size_t>(n_threads);
          const size_t e = words * static_cast<size_t>(part + 1) / static_cast<size_t>(n_threads);
          sums[static_cast<size_t>(part)] += sum_words(static_cast<const uint64_t*>(between.p) + b, e - b);
        });
      }
      const KvLayer layer{k[static_cast<size_t>(l)]->p, v[static_cast<size_t>(l)]->p, true, kHeadDim,
                          len * kHeadDim};
      const auto start = std::chrono::steady_clock::now();
      attention(q.data(), layer, depth, 1, shape, out.data(), pool, scratch.data());
      ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    return ms;
  };
  for (bool reads : {false, true}) {
    token(reads);  // warm-up: threads, scratch, page tables
    std::vector<double> ms;
    for (int i = 0; i < tokens; ++i) ms.push_back(token(reads));
    (reads ? r.between_reads_ms : r.back_to_back_ms) = median(ms);
    (reads ? r.between_reads_best_ms : r.back_to_back_best_ms) = *std::min_element(ms.begin(), ms.end());
  }
  static volatile uint64_t sink;  // the reads' sums stay observable
  for (uint64_t x : sums) sink = sink + x;
  return r;
}

}  // namespace ernie::dev
