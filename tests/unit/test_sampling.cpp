// Each sampling stage on constructed logits (lib/sampling).
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "sampling/sampler.h"
#include "util/error.h"

using namespace ernie;

namespace {

SamplingParams plain(float temperature) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

std::map<int32_t, int> histogram(Sampler& s, const std::vector<float>& logits, int draws) {
  std::map<int32_t, int> h;
  std::vector<int32_t> none;
  for (int i = 0; i < draws; ++i) h[s.sample(logits.data(), none)]++;
  return h;
}

}  // namespace

TEST_CASE("sampling: greedy is argmax, ties to the lowest id") {
  std::vector<float> l = {0.5f, 2.0f, 2.0f, -1.0f};
  Sampler s(SamplingParams::greedy(), 4, 4);
  CHECK(s.sample(l.data(), {}) == 1);
}

TEST_CASE("sampling: temperature follows softmax(l / T)") {
  std::vector<float> l = {1.0f, 0.0f, -1.0f};
  for (float t : {0.5f, 1.0f, 2.0f}) {
    SamplingParams p = plain(t);
    p.seed = 7;
    Sampler s(p, 3, 3);
    const int n = 20000;
    auto h = histogram(s, l, n);
    double z = 0;
    for (float x : l) z += std::exp(x / t);
    for (int i = 0; i < 3; ++i) {
      double expect = std::exp(l[static_cast<size_t>(i)] / t) / z;
      CHECK(std::fabs(h[i] / double(n) - expect) < 0.015);
    }
  }
}

TEST_CASE("sampling: top-k, top-p and min-p restrict the candidates") {
  std::vector<float> l = {3.0f, 2.9f, 2.8f, 0.0f, -5.0f};
  SamplingParams k = plain(1.0f);
  k.top_k = 2;
  Sampler sk(k, 5, 5);
  for (auto& [tok, n] : histogram(sk, l, 2000)) CHECK(tok < 2);

  // probabilities ~ {0.36, 0.33, 0.30, 0.015, ...}: top_p 0.5 keeps two.
  SamplingParams tp = plain(1.0f);
  tp.top_p = 0.5f;
  Sampler sp(tp, 5, 5);
  auto hp = histogram(sp, l, 2000);
  CHECK(hp.size() == 2);
  CHECK(hp.count(0) == 1);
  CHECK(hp.count(1) == 1);

  SamplingParams mp = plain(1.0f);
  mp.min_p = 0.1f;  // drops token 3 (p ≈ 0.015 < 0.1 * 0.36) and 4
  Sampler sm(mp, 5, 5);
  for (auto& [tok, n] : histogram(sm, l, 2000)) CHECK(tok < 3);
}

TEST_CASE("sampling: repetition, presence and frequency penalties over the window") {
  std::vector<float> l = {2.0f, 1.9f, -1.0f};
  SamplingParams rep = SamplingParams::greedy();
  rep.repetition_penalty = 2.0f;  // 2.0 -> 1.0 for token 0
  Sampler s(rep, 3, 3);
  CHECK(s.sample(l.data(), {0}) == 1);
  CHECK(s.sample(l.data(), {}) == 0);
  // Outside the window the penalty does not apply.
  rep.penalty_window = 1;
  Sampler w(rep, 3, 3);
  CHECK(w.sample(l.data(), {0, 2}) == 0);

  SamplingParams pres = SamplingParams::greedy();
  pres.presence_penalty = 0.5f;
  Sampler sp(pres, 3, 3);
  CHECK(sp.sample(l.data(), {0, 0, 0}) == 1);  // 2.0 - 0.5 < 1.9

  SamplingParams freq = SamplingParams::greedy();
  freq.frequency_penalty = 0.05f;
  Sampler sf(freq, 3, 3);
  CHECK(sf.sample(l.data(), {0}) == 0);        // 1.95 > 1.9
  CHECK(sf.sample(l.data(), {0, 0, 0}) == 1);  // 1.85 < 1.9
}

TEST_CASE("sampling: logit bias and bans") {
  std::vector<float> l = {2.0f, 1.0f, 0.0f};
  SamplingParams p = SamplingParams::greedy();
  p.logit_bias = {{0, -INFINITY}, {2, 1.5f}};
  Sampler s(p, 3, 3);
  CHECK(s.sample(l.data(), {}) == 2);
  SamplingParams r = plain(1.0f);
  r.logit_bias = {{0, -INFINITY}};
  Sampler sr(r, 3, 3);
  for (auto& [tok, n] : histogram(sr, l, 500)) CHECK(tok != 0);
}

TEST_CASE("sampling: padded ids are never chosen") {
  std::vector<float> l = {0.0f, 0.1f, 50.0f, 60.0f};  // ids 2, 3 are padding
  Sampler g(SamplingParams::greedy(), 4, 2);
  CHECK(g.sample(l.data(), {}) == 1);
  Sampler r(plain(5.0f), 4, 2);
  for (auto& [tok, n] : histogram(r, l, 500)) CHECK(tok < 2);
}

TEST_CASE("sampling: the seed decides the sequence") {
  std::vector<float> l(50);
  for (size_t i = 0; i < l.size(); ++i) l[i] = std::sin(static_cast<float>(i));
  auto run = [&](uint64_t seed) {
    SamplingParams p = plain(1.0f);
    p.seed = seed;
    Sampler s(p, 50, 50);
    std::vector<int32_t> out;
    for (int i = 0; i < 40; ++i) out.push_back(s.sample(l.data(), out));
    return out;
  };
  CHECK(run(1) == run(1));
  CHECK(run(1) != run(2));
}

TEST_CASE("sampling: log-probabilities of the raw distribution, best first") {
  std::vector<float> l = {1.0f, 3.0f, 2.0f, 0.0f};
  Sampler s(SamplingParams::greedy(), 4, 4);
  TokenLogprobs lp;
  CHECK(s.sample(l.data(), {}, 3, &lp) == 1);
  double z = std::log(std::exp(1.0) + std::exp(3.0) + std::exp(2.0) + std::exp(0.0));
  CHECK(lp.logprob == doctest::Approx(3.0 - z));
  REQUIRE(lp.top.size() == 3);
  CHECK(lp.top[0].token == 1);
  CHECK(lp.top[1].token == 2);
  CHECK(lp.top[2].token == 0);
  CHECK(lp.top[2].logprob == doctest::Approx(1.0 - z));
}

TEST_CASE("sampling: invalid parameters are refused") {
  auto bad = [](auto edit) {
    SamplingParams p;
    edit(p);
    try {
      validate(p, 10);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(bad([](SamplingParams& p) { p.temperature = -1; }).find("temperature") != std::string::npos);
  CHECK(bad([](SamplingParams& p) { p.temperature = NAN; }).find("temperature") != std::string::npos);
  CHECK(bad([](SamplingParams& p) { p.top_p = 0; }).find("top_p") != std::string::npos);
  CHECK(bad([](SamplingParams& p) { p.min_p = 2; }).find("min_p") != std::string::npos);
  CHECK(bad([](SamplingParams& p) { p.top_k = -1; }).find("top_k") != std::string::npos);
  CHECK(bad([](SamplingParams& p) { p.repetition_penalty = 0; }).find("repetition_penalty") != std::string::npos);
  CHECK(bad([](SamplingParams& p) { p.logit_bias = {{99, 1}}; }).find("token 99") != std::string::npos);
  CHECK(bad([](SamplingParams& p) { p.logit_bias = {{1, NAN}}; }).find("token 1") != std::string::npos);
  CHECK(bad([](SamplingParams&) {}).empty());
}
