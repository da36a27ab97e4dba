// libernie-cuda.so: the CUDA backend plugin's entry point (backends/plugin_abi.h).
//
// Status: the probe is real (driver, devices, memory, compiled
// architectures) and the forward pass is written (runtime/, kernels/), but
// it has not yet run on a GPU: until tests/gpu/run.sh has passed on one and
// kValidated is set, the plugin reports itself unavailable unless
// ERNIE_CUDA_EXPERIMENTAL=1 asks for the unvalidated path (README.md).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backends/backend.h"
#include "backends/cuda/cuda_probe.h"
#include "backends/cuda/runtime/cuda_model.h"
#include "backends/plugin_abi.h"
#include "util/error.h"

namespace ernie::cuda {
namespace {

// Set by the change that records a passing tests/gpu/run.sh.
constexpr bool kValidated = false;
constexpr const char* kNotValidated =
    "the CUDA forward pass has not been validated on a GPU yet (ERNIE_CUDA_EXPERIMENTAL=1 enables it)";

bool enabled() {
  const char* v = std::getenv("ERNIE_CUDA_EXPERIMENTAL");
  return kValidated || (v && std::strcmp(v, "1") == 0);
}

class CudaBackend final : public Backend {
 public:
  std::string name() const override { return "cuda"; }
  std::unique_ptr<ModelRuntime> prepare(const ModelWeights& weights) const override {
    // ernie::Error is header-only, so throwing it needs nothing from the
    // core (the plugin links no core symbol: -Wl,--no-undefined).
    if (!enabled()) throw Error(ERNIE_E_BACKEND, kNotValidated);
    return make_cuda_runtime(weights);
  }
};

void probe(ernie_plugin_probe_result* out) {
  probe_devices(out);
  if (out->verdict == ERNIE_PLUGIN_USABLE && !enabled()) {
    out->verdict = ERNIE_PLUGIN_NOT_IMPLEMENTED;
    std::snprintf(out->reason, sizeof out->reason, "%s", kNotValidated);
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
