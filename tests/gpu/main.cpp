// The GPU test program: runs only where a CUDA device is usable; elsewhere it
// prints why and exits 77, which ctest reports as a skipped test.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <cstdio>

int main(int argc, char** argv) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    std::printf("SKIPPED: no usable CUDA device (%s): the GPU tests run on a machine with one (tests/gpu/run.sh)\n",
                e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
