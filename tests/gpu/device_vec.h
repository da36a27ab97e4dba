// Device memory for the GPU tests: a vector's copy on the device, with its
// first element `offset` elements into the allocation (offset 1 of bytes
// makes every row misaligned). upload() and download() wait for the device.
#pragma once

#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <cstddef>
#include <vector>

namespace gpu_test {

template <class T>
struct DeviceVec {
  T* p = nullptr;
  size_t n = 0;
  explicit DeviceVec(size_t count, size_t offset = 0) : n(count) {
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&base), (n + offset + 1) * sizeof(T)) == cudaSuccess);
    p = base + offset;
  }
  explicit DeviceVec(const std::vector<T>& host, size_t offset = 0) : DeviceVec(host.size(), offset) { upload(host); }
  ~DeviceVec() { cudaFree(base); }
  DeviceVec(const DeviceVec&) = delete;
  DeviceVec& operator=(const DeviceVec&) = delete;

  void upload(const std::vector<T>& host) {
    REQUIRE(host.size() <= n);
    REQUIRE(cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
    // A pageable copy may return before its DMA ends, and a test's own
    // stream does not wait for the default stream.
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  }
  std::vector<T> download(size_t count) const {
    const cudaError_t e = cudaDeviceSynchronize();
    REQUIRE_MESSAGE(e == cudaSuccess, cudaGetErrorString(e));
    std::vector<T> host(count);
    REQUIRE(cudaMemcpy(host.data(), p, count * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return host;
  }
  std::vector<T> download() const { return download(n); }

 private:
  T* base = nullptr;
};

}  // namespace gpu_test
