// A small deterministic generator (xoshiro256**, seeded through splitmix64):
// the same seed gives the same draws on every platform and compiler, which
// std:: distributions do not promise.
#pragma once

#include <array>
#include <cstdint>

namespace ernie {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);
  uint64_t next();
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
};

}  // namespace ernie
