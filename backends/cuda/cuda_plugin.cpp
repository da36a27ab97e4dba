// libernie-cuda.so: the CUDA backend plugin's entry point (backends/plugin_abi.h).
//
// Status: a skeleton. The probe is real (driver, devices, memory, compiled
// architectures); the forward pass is not written yet (README.md says what
// comes next), so the plugin reports itself unavailable wherever devices
// exist and "auto" never picks it. Its Backend refuses to prepare a model
// rather than pretending.
#include <cstdio>
#include <string>

#include "backends/backend.h"
#include "backends/cuda/cuda_probe.h"
#include "backends/plugin_abi.h"
#include "util/error.h"

namespace ernie::cuda {
namespace {

// Turned on by the change that brings the kernels (and the GPU tests).
constexpr bool kForwardImplemented = false;
constexpr const char* kNotImplemented = "the CUDA forward pass is not implemented in this build";

class CudaBackend final : public Backend {
 public:
  std::string name() const override { return "cuda"; }
  std::unique_ptr<ModelRuntime> prepare(const ModelWeights&) const override {
    // ernie::Error is header-only, so throwing it needs nothing from the
    // core (the plugin links no core symbol: -Wl,--no-undefined).
    throw Error(ERNIE_E_BACKEND, kNotImplemented);
  }
};

void probe(ernie_plugin_probe_result* out) {
  probe_devices(out);
  if (out->verdict == ERNIE_PLUGIN_USABLE && !kForwardImplemented) {
    out->verdict = ERNIE_PLUGIN_NOT_IMPLEMENTED;
    std::snprintf(out->reason, sizeof out->reason, "%s", kNotImplemented);
  }
}

Backend* create_backend(char* error, size_t capacity) {
  try {
    return new CudaBackend();
  } catch (const std::exception& e) {
    if (capacity) std::snprintf(error, capacity, "%s", e.what());
    return nullptr;
  }
}

}  // namespace
}  // namespace ernie::cuda

extern "C" __attribute__((visibility("default"))) const ernie_backend_plugin* ernie_backend_plugin_entry(void) {
  static const std::string version = std::string(ERNIE_VERSION_STRING) + " (CUDA runtime " +
                                     ernie::cuda::runtime_version_string() + ", static)";
  static const ernie_backend_plugin entry = {
      ERNIE_PLUGIN_ABI_VERSION,
      sizeof(ernie_backend_plugin),
      ERNIE_VERSION_STRING,
      "cuda",
      version.c_str(),
      100,  // above the CPU's 10: once usable, "auto" prefers the GPU
      ernie::cuda::probe,
      ernie::cuda::create_backend,
  };
  return &entry;
}
