// Machine probes for `ernie bench` (docs/bench.md): how fast this machine can
// stream memory and how fast it can multiply, measured in the same run as the
// model so the roofline compares like with like.
#pragma once

#include <cstdint>
#include <memory>

namespace ernie::dev {

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
