// Host code only (no kernels yet): the CUDA runtime API, linked statically,
// so a machine needs the NVIDIA driver but not the CUDA toolkit.
#include "backends/cuda/cuda_probe.h"

#include <cuda_runtime.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

#include "backends/cuda/arch_compat.h"

#ifndef ERNIE_CUDA_ARCHITECTURES
#define ERNIE_CUDA_ARCHITECTURES ""
#endif

namespace ernie::cuda {
namespace {

void say(ernie_plugin_probe_result* out, int32_t verdict, const char* fmt, ...) {
  out->verdict = verdict;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(out->reason, sizeof out->reason, fmt, ap);
  va_end(ap);
}

// 12040 -> "12.4"
std::string cuda_version(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

}  // namespace

const char* runtime_version_string() {
  static const std::string v = cuda_version(CUDART_VERSION);
  return v.c_str();
}

void probe_devices(ernie_plugin_probe_result* out) {
  out->n_devices = 0;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();  // the error is not sticky; leave no trace for the host
    int driver = 0;
    cudaDriverGetVersion(&driver);  // 0 when no driver is installed
    if (e == cudaErrorNoDevice) {
      say(out, ERNIE_PLUGIN_NO_DEVICE, "no CUDA device (NVIDIA driver for CUDA %s present)",
          cuda_version(driver).c_str());
    } else if (driver == 0) {
      say(out, ERNIE_PLUGIN_NO_DRIVER, "no NVIDIA driver (libcuda.so.1 cannot be loaded)");
    } else if (e == cudaErrorInsufficientDriver || driver < CUDART_VERSION) {
      say(out, ERNIE_PLUGIN_NO_DRIVER,
          "the NVIDIA driver supports CUDA %s, this plugin needs CUDA %s or later: update the driver",
          cuda_version(driver).c_str(), runtime_version_string());
    } else {
      say(out, ERNIE_PLUGIN_FAILED, "the CUDA runtime cannot list devices: %s (%s)", cudaGetErrorString(e),
          cudaGetErrorName(e));
    }
    return;
  }
  if (count <= 0) {
    say(out, ERNIE_PLUGIN_NO_DEVICE, "no CUDA device");
    return;
  }

  std::vector<CudaArch> archs;
  const bool archs_known = parse_cuda_architectures(ERNIE_CUDA_ARCHITECTURES, &archs);
  // cudaSetDevice creates the device's primary context (CUDA 12+), which
  // costs device memory: only done when free memory was asked for.
  const bool measure = (out->flags & ERNIE_PLUGIN_PROBE_FREE_MEMORY) != 0;
  int previous = 0;
  if (measure) cudaGetDevice(&previous);  // the host application's current device, restored below
  bool any_code = false;
  uint64_t best_free = 0;
  std::string without_code;
  const int n = count < ERNIE_PLUGIN_MAX_DEVICES ? count : ERNIE_PLUGIN_MAX_DEVICES;
  for (int i = 0; i < n; ++i) {
    ernie_plugin_device& d = out->devices[out->n_devices++];
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      cudaGetLastError();
      std::snprintf(d.name, sizeof d.name, "CUDA device %d (properties unreadable)", i);
      continue;
    }
    std::snprintf(d.name, sizeof d.name, "%s", prop.name);
    d.memory_bytes = prop.totalGlobalMem;
    d.cc_major = prop.major;
    d.cc_minor = prop.minor;
    size_t free_b = 0, total_b = 0;
    if (measure && cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
      d.free_bytes = free_b;
    } else if (measure) {
      cudaGetLastError();
    }
    const bool has_code = !archs_known || device_has_code(archs, prop.major, prop.minor);
    if (has_code) {
      any_code = true;
      if (d.free_bytes > best_free) best_free = d.free_bytes;
    } else {
      without_code += (without_code.empty() ? "" : ", ") + std::string(d.name) + " (" +
                      std::to_string(prop.major) + "." + std::to_string(prop.minor) + ")";
    }
  }
  if (measure) cudaSetDevice(previous);

  if (!any_code) {
    say(out, ERNIE_PLUGIN_UNSUPPORTED_DEVICE,
        "no device this build has code for: %s; the plugin carries %s (rebuild with CMAKE_CUDA_ARCHITECTURES "
        "including the device's)",
        without_code.c_str(), describe_architectures(archs).c_str());
  } else if (measure && best_free < kMinFreeBytes) {
    say(out, ERNIE_PLUGIN_TOO_LITTLE_MEMORY,
        "too little memory: the most free on a usable device is %llu MiB, at least %llu MiB are needed",
        static_cast<unsigned long long>(best_free >> 20), static_cast<unsigned long long>(kMinFreeBytes >> 20));
  } else {
    out->verdict = ERNIE_PLUGIN_USABLE;
    out->reason[0] = '\0';
  }
}

}  // namespace ernie::cuda
