// CPU attention: the chunk kernels against their scalar reference, the whole
// operation against a float64 softmax, and the same bits whether chunks run
// on one thread or many and whether tokens come in a batch or one by one.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/kernels/attn_chunk.h"
#include "backends/cpu/ops/attention.h"
#include "format/dtype.h"
#include "util/thread_pool.h"

using namespace ernie;
namespace cpu = ernie::cpu;

namespace {

// A cache of `len` positions for n_kv heads, f32 values and their f16 bits
// (the f32 copy holds the f16-rounded values, so both describe one cache),
// laid out as sessions keep it (each kv head's positions adjacent) or with
// the heads side by side in a row (as the CUDA plugin keeps it).
struct Cache {
  int64_t len, n_kv, hd;
  bool head_major;
  std::vector<float> k32, v32;
  std::vector<uint16_t> k16, v16;
  size_t at(int64_t p, int64_t h) const {
    return static_cast<size_t>(head_major ? (h * len + p) * hd : (p * n_kv + h) * hd);
  }
  int64_t pos_stride() const { return head_major ? hd : n_kv * hd; }
  KvLayer layer(bool f16) const {
    const int64_t head_stride = head_major ? len * hd : hd;
    if (f16) return {k16.data(), v16.data(), true, pos_stride(), head_stride};
    return {k32.data(), v32.data(), false, pos_stride(), head_stride};
  }
};

Cache random_cache(int64_t len, int64_t n_kv, int64_t hd, float spread, std::mt19937& rng, bool head_major = true) {
  std::normal_distribution<float> nd(0.0f, spread);
  Cache c{len, n_kv, hd, head_major, {}, {}, {}, {}};
  const auto n = static_cast<size_t>(len * n_kv * hd);
  c.k16.resize(n);
  c.v16.resize(n);
  c.k32.resize(n);
  c.v32.resize(n);
  for (size_t i = 0; i < n; ++i) {
    c.k16[i] = f32_to_f16(nd(rng));
    c.v16[i] = f32_to_f16(nd(rng));
    c.k32[i] = f16_to_f32(c.k16[i]);
    c.v32[i] = f16_to_f32(c.v16[i]);
  }
  return c;
}

std::vector<float> random_floats(size_t n, float spread, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, spread);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

// The definition in float64: token t (position pos0 + t) attends to [0, pos0 + t].
std::vector<double> reference(const std::vector<float>& q, const Cache& c, int64_t pos0, int64_t n_tokens,
                              const AttentionShape& s) {
  const int64_t group = s.n_heads / s.n_kv_heads, hd = s.head_dim, qd = s.n_heads * hd;
  std::vector<double> out(static_cast<size_t>(n_tokens * qd));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int64_t len = pos0 + t + 1;
    for (int64_t h = 0; h < s.n_heads; ++h) {
      const int64_t kvh = h / group;
      std::vector<double> w(static_cast<size_t>(len));
      double mx = -1e300, sum = 0;
      for (int64_t p = 0; p < len; ++p) {
        double dot = 0;
        for (int64_t d = 0; d < hd; ++d) {
          dot += double(q[t * qd + h * hd + d]) * c.k32[c.at(p, kvh) + d];
        }
        w[p] = dot / std::sqrt(double(hd));
        mx = std::max(mx, w[p]);
      }
      for (auto& x : w) sum += (x = std::exp(x - mx));
      for (int64_t d = 0; d < hd; ++d) {
        double acc = 0;
        for (int64_t p = 0; p < len; ++p) acc += w[p] / sum * c.v32[c.at(p, kvh) + d];
        out[t * qd + h * hd + d] = acc;
      }
    }
  }
  return out;
}

std::vector<float> run(const std::vector<float>& q, const Cache& c, bool f16, int64_t pos0, int64_t n_tokens,
                       const AttentionShape& s, int threads) {
  ThreadPool pool(threads);
  std::vector<float> out(static_cast<size_t>(n_tokens * s.n_heads * s.head_dim), NAN);
  std::vector<float> scratch(static_cast<size_t>(attention_scratch_floats(threads, s, pos0 + n_tokens)));
  attention(q.data(), c.layer(f16), pos0, n_tokens, s, out.data(), pool, scratch.data());
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("attention chunk: every kernel matches the scalar reference") {
  std::mt19937 rng(3);
  for (int64_t hd : {int64_t{16}, int64_t{64}, int64_t{128}}) {
    for (int64_t group : {int64_t{1}, int64_t{3}, int64_t{5}, int64_t{8}}) {
      for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{8}, int64_t{9}, int64_t{100}, cpu::kAttnChunk}) {
        for (float spread : {0.1f, 3.0f}) {  // flat and very peaked softmax
          const Cache c = random_cache(n + 3, 1, hd, 1.0f, rng);
          const std::vector<float> q = random_floats(static_cast<size_t>(group * hd), spread, rng);
          for (bool f16 : {false, true}) {
            CAPTURE(hd);
            CAPTURE(group);
            CAPTURE(n);
            CAPTURE(spread);
            CAPTURE(f16);
            cpu::AttnChunk a;
            a.q = q.data();
            a.k = f16 ? static_cast<const void*>(c.k16.data()) : c.k32.data();
            a.v = f16 ? static_cast<const void*>(c.v16.data()) : c.v32.data();
            a.f16 = f16;
            a.stride = c.pos_stride();
            a.hd = hd;
            a.group = group;
            a.p0 = 3;  // not at the start of the cache
            a.p1 = 3 + n;
            a.scale = 1.0f / std::sqrt(float(hd));
            const int64_t pf = cpu::attn_partial_floats(group, hd);
            std::vector<float> ref(static_cast<size_t>(pf)), got(static_cast<size_t>(pf));
            std::vector<float> scores(static_cast<size_t>(group * cpu::kAttnChunk));
            cpu::attn_chunk_scalar(a, scores.data(), cpu::attn_partial_at(ref.data(), group, hd));
            for (cpu::Isa isa : cpu::kIsas) {
              CAPTURE(cpu::isa_name(isa));
              cpu::attn_chunk_kernel(isa, hd)(a, scores.data(), cpu::attn_partial_at(got.data(), group, hd));
              for (int64_t g = 0; g < group; ++g) {
                CHECK(got[g] == doctest::Approx(ref[g]).epsilon(1e-5));                   // m
                CHECK(got[group + g] == doctest::Approx(ref[group + g]).epsilon(1e-4));   // l
              }
              double err = 0, mag = 0;
              for (int64_t i = 2 * group; i < pf; ++i) {
                err = std::max(err, double(std::fabs(got[i] - ref[i])));
                mag = std::max(mag, double(std::fabs(ref[i])));
              }
              CHECK(err <= 1e-4 * std::max(mag, 1.0));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("attention: matches float64 across chunk boundaries, any thread count, either layout") {
  std::mt19937 rng(5);
  const AttentionShape s{10, 2, 64};  // group 5, like ERNIE-4.5-21B-A3B
  for (int64_t pos0 : {int64_t{0}, int64_t{250}, cpu::kAttnChunk, 3 * cpu::kAttnChunk - 2}) {
    for (int64_t n_tokens : {int64_t{1}, int64_t{2}, int64_t{9}}) {
      for (bool head_major : {true, false}) {
        const Cache c = random_cache(pos0 + n_tokens, s.n_kv_heads, s.head_dim, 1.0f, rng, head_major);
        const std::vector<float> q = random_floats(static_cast<size_t>(n_tokens * s.n_heads * s.head_dim), 1.0f, rng);
        const std::vector<double> ref = reference(q, c, pos0, n_tokens, s);
        for (bool f16 : {false, true}) {
          for (int threads : {1, 2, 3, 7}) {
            CAPTURE(pos0);
            CAPTURE(n_tokens);
            CAPTURE(head_major);
            CAPTURE(f16);
            CAPTURE(threads);
            const std::vector<float> got = run(q, c, f16, pos0, n_tokens, s, threads);
            double err = 0;
            for (size_t i = 0; i < ref.size(); ++i) err = std::max(err, std::fabs(got[i] - ref[i]));
            CHECK(err < 2e-5);
          }
        }
      }
    }
  }
}

TEST_CASE("attention: the same bits on 1 or many threads, in a batch or token by token") {
  std::mt19937 rng(8);
  const AttentionShape s{16, 2, 128};  // group 8, like ERNIE-4.5-0.3B
  const int64_t pos0 = 700, n_tokens = 6;
  const int64_t qd = s.n_heads * s.head_dim;
  for (bool head_major : {true, false}) {
    const Cache c = random_cache(pos0 + n_tokens, s.n_kv_heads, s.head_dim, 1.0f, rng, head_major);
    const std::vector<float> q = random_floats(static_cast<size_t>(n_tokens * s.n_heads * s.head_dim), 1.0f, rng);
    for (bool f16 : {false, true}) {
      CAPTURE(head_major);
      CAPTURE(f16);
      // 6 tokens x 2 kv heads: one task per query on 1-3 threads, several
      // runs of a query's chunks on 8 (fewer queries than twice the threads);
      // one token (2 queries of 3 chunks): one run per query on 1 and 2
      // threads, 3 on 3 and on 5 (never more runs than chunks).
      const std::vector<float> batch = run(q, c, f16, pos0, n_tokens, s, 1);
      for (int threads : {2, 3, 8}) CHECK(same_bits(run(q, c, f16, pos0, n_tokens, s, threads), batch));
      for (int64_t t = 0; t < n_tokens; ++t) {
        const std::vector<float> qt(q.begin() + t * qd, q.begin() + (t + 1) * qd);
        const std::vector<float> want(batch.begin() + t * qd, batch.begin() + (t + 1) * qd);
        for (int threads : {1, 2, 3, 5}) CHECK(same_bits(run(qt, c, f16, pos0 + t, 1, s, threads), want));
      }
    }
  }
}
