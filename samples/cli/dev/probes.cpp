#include "dev/probes.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "backends/cpu/kernels/simd_x86.h"
#include "platform/platform.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace ernie::dev {
namespace {

using Clock = std::chrono::steady_clock;

volatile uint64_t g_sink_u64;  // keeps the probes' results alive
volatile float g_sink_f32;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

// Eight independent sums: plain integer adds keep up with memory on any ISA
// (the compiler vectorises them), so the loads are the only limit. Each
// 64-byte line is requested kPrefetchAhead bytes early, as the model's
// kernels do (simd_x86.h): with the hardware prefetcher alone a thread reads
// slower than those kernels, and decode measured faster than the probe.
uint64_t sum_words(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
#ifdef ERNIE_KERNELS_X86
    _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(p + i) + cpu::simd::kPrefetchAhead),
                 _MM_HINT_T0);
#endif
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
    e += p[i + 4];
    f += p[i + 5];
    g += p[i + 6];
    h += p[i + 7];
  }
  a += e + f + g + h;
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

namespace {

// Each chain: acc = acc * a + b, which converges (no overflow, no denormals).
constexpr int64_t kFmaIters = 1 << 22;
constexpr int64_t kDotIters = 1 << 22;

double fma_scalar() {
  float acc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (int64_t i = 0; i < kFmaIters; ++i) {
    for (float& x : acc) x = x * 0.999999f + 1e-7f;
  }
  g_sink_f32 = acc[0] + acc[7];
  return 2.0 * 8 * kFmaIters;
}

int32_t dot_scalar_run() {
  int8_t a[32], b[32];
  for (int k = 0; k < 32; ++k) a[k] = static_cast<int8_t>(k), b[k] = static_cast<int8_t>(3 - k);
  int32_t acc = 0;
  for (int64_t i = 0; i < kDotIters / 16; ++i) {
    for (int k = 0; k < 32; ++k) acc += static_cast<uint8_t>(a[k] + i) * b[k];
  }
  return acc;
}

double dot_scalar() {
  g_sink_u64 = static_cast<uint64_t>(dot_scalar_run());
  return 2.0 * 32 * (kDotIters / 16);
}

#ifdef ERNIE_KERNELS_X86
ERNIE_TARGET_AVX2 double fma_avx2() {
  __m256 acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_ps(static_cast<float>(k));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < kFmaIters; ++i) {
    for (int k = 0; k < 12; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  }
  __m256 s = acc[0];
  for (int k = 1; k < 12; ++k) s = _mm256_add_ps(s, acc[k]);
  g_sink_f32 = _mm256_cvtss_f32(s);
  return 2.0 * 12 * 8 * kFmaIters;
}

ERNIE_TARGET_AVX512 double fma_avx512() {
  __m512 acc[16];
  for (int k = 0; k < 16; ++k) acc[k] = _mm512_set1_ps(static_cast<float>(k));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < kFmaIters; ++i) {
    for (int k = 0; k < 16; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  }
  __m512 s = acc[0];
  for (int k = 1; k < 16; ++k) s = _mm512_add_ps(s, acc[k]);
  g_sink_f32 = _mm512_reduce_add_ps(s);
  return 2.0 * 16 * 16 * kFmaIters;
}

// maddubs (u8 x s8 pairs -> i16) and an i16 add: the avx2 tiles' step, 32
// multiply-adds (their vpmaddwd widening comes once per 8 steps). The
// products' operands are loop-invariant, so each goes through an empty
// volatile asm: otherwise the compiler computes them once and the loop
// measures additions only (it did before 2026-11-30).
ERNIE_TARGET_AVX2 double dot_avx2() {
  __m256i acc[8];
  for (int k = 0; k < 8; ++k) acc[k] = _mm256_set1_epi16(static_cast<int16_t>(k));
  const __m256i u = _mm256_set1_epi8(3), s = _mm256_set1_epi8(-2);
  for (int64_t i = 0; i < kDotIters; ++i) {
    for (int k = 0; k < 8; ++k) {
      __m256i uk = u;
      asm volatile("" : "+x"(uk));
      acc[k] = _mm256_add_epi16(acc[k], _mm256_maddubs_epi16(uk, s));
    }
  }
  __m256i t = acc[0];
  for (int k = 1; k < 8; ++k) t = _mm256_add_epi16(t, acc[k]);
  g_sink_u64 = static_cast<uint64_t>(_mm256_extract_epi16(t, 0));
  return 2.0 * 8 * 32 * kDotIters;
}

// vpdpbusd: 64 u8 x s8 multiply-adds into 16 i32 lanes per instruction.
ERNIE_TARGET_AVX512 double dot_avx512() {
  __m512i acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm512_set1_epi32(k);
  const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
  for (int64_t i = 0; i < kDotIters; ++i) {
    for (int k = 0; k < 12; ++k) acc[k] = _mm512_dpbusd_epi32(acc[k], u, s);
  }
  __m512i t = acc[0];
  for (int k = 1; k < 12; ++k) t = _mm512_add_epi32(t, acc[k]);
  // One lane keeps the work observable (the lanes wrap; the header's
  // reduce_add would be a signed overflow).
  g_sink_u64 = static_cast<uint64_t>(static_cast<uint32_t>(_mm_cvtsi128_si32(_mm512_castsi512_si128(t))));
  return 2.0 * 12 * 64 * kDotIters;
}
#endif

// Runs `probe` (returning its op count) on every thread at once; the best
// rate of `runs`, in operations per second.
template <typename Probe>
double best_rate(ThreadPool& pool, Probe probe, int runs) {
  double best = 0;
  for (int r = 0; r < runs; ++r) {
    std::vector<double> ops(static_cast<size_t>(pool.size()));
    const auto start = Clock::now();
    pool.parallel_for(pool.size(), [&](int64_t task, int) { ops[static_cast<size_t>(task)] = probe(); });
    const double s = seconds_since(start);
    double total = 0;
    for (double o : ops) total += o;
    best = std::max(best, total / s);
  }
  return best;
}

}  // namespace

struct ReadBandwidthProbe::State {
  size_t words = 0;
  // In huge pages where the OS gives them, as the model's weights and KV
  // cache are: with 4 KB pages the probe pays TLB misses the model does not
  // and reads slower than the model can (it read 18 GB/s against decode's
  // 18.7 one day).
  struct Free {
    uint64_t bytes;
    void operator()(uint64_t* p) const { free_streamed(p, bytes); }
  };
  std::unique_ptr<uint64_t[], Free> buffer{nullptr, Free{0}};
  std::unique_ptr<ThreadPool> pool;
  std::vector<uint64_t> sums;

  // Thread `part`'s share of the words.
  void range(int64_t part, size_t* begin, size_t* n) const {
    const auto parts = static_cast<size_t>(pool->size());
    *begin = words * static_cast<size_t>(part) / parts;
    *n = words * static_cast<size_t>(part + 1) / parts - *begin;
  }
};

ReadBandwidthProbe::ReadBandwidthProbe(int n_threads, uint64_t bytes) : s_(std::make_unique<State>()) {
  ERNIE_CHECK(n_threads >= 1 && bytes >= (uint64_t{1} << 20), ERNIE_E_INVALID_ARGUMENT,
              "bandwidth probe: needs threads >= 1 and at least 1 MiB");
  s_->words = static_cast<size_t>(bytes / 8);
  s_->buffer = std::unique_ptr<uint64_t[], State::Free>(static_cast<uint64_t*>(alloc_streamed(s_->words * 8)),
                                                        State::Free{s_->words * 8});
  ERNIE_CHECK(s_->buffer, ERNIE_E_OUT_OF_MEMORY, "bandwidth probe: cannot allocate %llu bytes",
              static_cast<unsigned long long>(bytes));
  s_->pool = std::make_unique<ThreadPool>(n_threads);
  s_->sums.assign(static_cast<size_t>(n_threads), 0);
  // First touch on the threads that read it (their NUMA node, their pages).
  s_->pool->parallel_for(n_threads, [&](int64_t part, int) {
    size_t b, n;
    s_->range(part, &b, &n);
    for (size_t i = 0; i < n; ++i) s_->buffer[b + i] = b + i;
  });
}

ReadBandwidthProbe::~ReadBandwidthProbe() = default;

uint64_t ReadBandwidthProbe::bytes() const { return s_->words * 8; }

double ReadBandwidthProbe::pass() {
  const auto start = Clock::now();
  s_->pool->parallel_for(s_->pool->size(), [&](int64_t part, int) {
    size_t b, n;
    s_->range(part, &b, &n);
    s_->sums[static_cast<size_t>(part)] = sum_words(s_->buffer.get() + b, n);
  });
  const double s = seconds_since(start);
  uint64_t total = 0;
  for (uint64_t v : s_->sums) total += v;
  g_sink_u64 = total;
  return static_cast<double>(bytes()) / s / 1e9;
}

struct RangeReadProbe::State {
  std::unique_ptr<ThreadPool> pool;
  std::vector<uint64_t> sums;
  uint64_t last_sum = 0;
};

RangeReadProbe::RangeReadProbe(int n_threads) : s_(std::make_unique<State>()) {
  ERNIE_CHECK(n_threads >= 1, ERNIE_E_INVALID_ARGUMENT, "range read probe: needs threads >= 1");
  s_->pool = std::make_unique<ThreadPool>(n_threads);
  s_->sums.assign(static_cast<size_t>(n_threads), 0);
}

RangeReadProbe::~RangeReadProbe() = default;

double RangeReadProbe::seconds(const std::vector<ByteRange>& ranges) {
  // Whole aligned words of each range: the few bytes at the ends are not
  // worth a slower loop.
  struct Words {
    const uint64_t* p;
    size_t n;
  };
  std::vector<Words> words;
  size_t total = 0;
  for (const ByteRange& r : ranges) {
    const auto begin = (reinterpret_cast<uintptr_t>(r.data) + 7) / 8 * 8;
    const auto end = (reinterpret_cast<uintptr_t>(r.data) + r.bytes) / 8 * 8;
    if (end <= begin) continue;
    words.push_back({reinterpret_cast<const uint64_t*>(begin), (end - begin) / 8});
    total += words.back().n;
  }
  const auto parts = static_cast<size_t>(s_->pool->size());
  const auto start = Clock::now();
  s_->pool->parallel_for(s_->pool->size(), [&](int64_t part, int) {
    size_t skip = total * static_cast<size_t>(part) / parts;
    size_t left = total * static_cast<size_t>(part + 1) / parts - skip;
    uint64_t sum = 0;
    for (const Words& w : words) {
      if (left == 0) break;
      if (skip >= w.n) {
        skip -= w.n;
        continue;
      }
      const size_t n = std::min(w.n - skip, left);
      sum += sum_words(w.p + skip, n);
      skip = 0;
      left -= n;
    }
    s_->sums[static_cast<size_t>(part)] = sum;
  });
  const double s = seconds_since(start);
  s_->last_sum = 0;
  for (uint64_t v : s_->sums) s_->last_sum += v;
  g_sink_u64 = s_->last_sum;
  return s;
}

uint64_t RangeReadProbe::last_sum() const { return s_->last_sum; }

ComputePeak measure_compute_peak(int n_threads) {
  ERNIE_CHECK(n_threads >= 1, ERNIE_E_INVALID_ARGUMENT, "compute probe: needs threads >= 1");
  ThreadPool pool(n_threads);
  const cpu::Isa isa = cpu::detect_isa();
  ComputePeak peak;
  peak.isa = cpu::isa_name(isa);
  double (*fma)() = fma_scalar;
  double (*dot)() = dot_scalar;
#ifdef ERNIE_KERNELS_X86
  if (isa >= cpu::Isa::Avx512Vnni) fma = fma_avx512, dot = dot_avx512;
  if (isa == cpu::Isa::Avx2) fma = fma_avx2, dot = dot_avx2;
#endif
  constexpr int kRuns = 3;
  peak.f32_gflops = best_rate(pool, fma, kRuns) / 1e9;
  peak.int8_gops = best_rate(pool, dot, kRuns) / 1e9;
  return peak;
}

}  // namespace ernie::dev
