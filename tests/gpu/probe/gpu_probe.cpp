// ernie_gpu_probe: the device's measured read bandwidth as one JSON object,
// the denominator of the GPU decode roofline (tests/gpu/run.sh).
#include <cuda_runtime.h>

#include <cstdio>
#include <exception>

#include "backends/cuda/kernels/kernels.h"

int main() {
  try {
    cudaDeviceProp prop{};
    ernie::cuda::check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    const uint64_t bytes = uint64_t{4} << 30;  // far past the L2 cache
    const double gbps = ernie::cuda::measure_read_bandwidth_gbps(bytes);
    std::printf("{\"device\": \"%s\", \"read_gbps\": %.1f, \"probe_bytes\": %llu}\n", prop.name, gbps,
                static_cast<unsigned long long>(bytes));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ernie_gpu_probe: %s\n", e.what());
    return 1;
  }
}
