#include "backends/cuda/kernels/kernels.h"

#include <algorithm>

namespace ernie::cuda {
namespace {

// Sums the buffer in 16-byte loads; the sum is written so the reads cannot
// be optimised away.
__global__ void read_all(const uint4* p, uint64_t n, unsigned* sink) {
  unsigned acc = 0;
  for (uint64_t i = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
    const uint4 v = p[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9e3779b9u) *sink = acc;  // practically never: no store traffic
}

}  // namespace

double measure_read_bandwidth_gbps(uint64_t bytes) {
  int device = 0, sms = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
  uint4* buf = nullptr;
  unsigned* sink = nullptr;
  check(cudaMalloc(&buf, bytes), "cudaMalloc (bandwidth probe)");
  check(cudaMalloc(&sink, sizeof(unsigned)), "cudaMalloc (bandwidth probe)");
  check(cudaMemset(buf, 1, bytes), "cudaMemset");
  cudaEvent_t t0, t1;
  cudaEventCreate(&t0);
  cudaEventCreate(&t1);
  const uint64_t n = bytes / sizeof(uint4);
  float best_ms = 1e30f;
  read_all<<<sms * 8, 256>>>(buf, n, sink);  // warm-up
  for (int rep = 0; rep < 5; ++rep) {
    cudaEventRecord(t0);
    read_all<<<sms * 8, 256>>>(buf, n, sink);
    cudaEventRecord(t1);
    check(cudaEventSynchronize(t1), "bandwidth probe");
    float ms = 0;
    cudaEventElapsedTime(&ms, t0, t1);
    best_ms = std::min(best_ms, ms);
  }
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  cudaFree(buf);
  cudaFree(sink);
  return static_cast<double>(n * sizeof(uint4)) / (best_ms * 1e-3) / 1e9;
}

}  // namespace ernie::cuda
