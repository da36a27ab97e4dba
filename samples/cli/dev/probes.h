// Machine probes for `ernie bench` (docs/bench.md): how fast this machine can
// stream memory and how fast it can multiply, measured in the same run as the
// model so the roofline compares like with like.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ernie::dev {

// The probes' read loop: the wrapping sum of n 8-byte words, each line
// requested a little ahead as the model's kernels do.
uint64_t sum_words(const uint64_t* p, size_t n);

// `n_threads` threads each sum their share of a `bytes` buffer, allocated
// and first touched (all of it resident) by those threads on construction.
// Each pass() reads it once and returns GB/s (1e9 bytes per second); `bench`
// runs its passes between decode turns and keeps the best.
class ReadBandwidthProbe {
 public:
  ReadBandwidthProbe(int n_threads, uint64_t bytes);
  ~ReadBandwidthProbe();
  ReadBandwidthProbe(const ReadBandwidthProbe&) = delete;
  ReadBandwidthProbe& operator=(const ReadBandwidthProbe&) = delete;

  double pass();
  uint64_t bytes() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Bytes the model already holds, read where they lie.
struct ByteRange {
  const void* data;
  uint64_t bytes;
};

// The read probe over memory that is not its own: the model's weights. On a
// VM the host may back some of the guest's memory more slowly than the rest
// (bench.md measured 2 MB pages of the page cache at 4-8 GB/s per thread
// next to fresh ones at 17), so a fresh buffer can stream faster than the
// pages the weights happen to occupy. seconds() has `n_threads` threads sum
// every byte of `ranges`, each thread one contiguous share of their
// concatenation (no barrier between ranges), and returns the time taken.
class RangeReadProbe {
 public:
  explicit RangeReadProbe(int n_threads);
  ~RangeReadProbe();
  RangeReadProbe(const RangeReadProbe&) = delete;
  RangeReadProbe& operator=(const RangeReadProbe&) = delete;

  double seconds(const std::vector<ByteRange>& ranges);
  // The wrapping sum of every 8-byte word the last seconds() read (each
  // range's whole aligned words): lets a test check each was read once.
  uint64_t last_sum() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

struct ComputePeak {
  double f32_gflops = 0;  // fused multiply-adds count 2 flops
  double int8_gops = 0;   // u8 x s8 products summed into i32: 2 ops per multiply-add
  const char* isa = "";   // the kernels' instruction set (cpu::detect_isa), which the probes use
};

// `n_threads` threads run independent chains of vector FMAs (f32) and int8
// dot products (VNNI on avx512, maddubs+madd on avx2) from registers; the
// best of a few runs.
ComputePeak measure_compute_peak(int n_threads);

}  // namespace ernie::dev
