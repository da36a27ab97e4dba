// The CUDA plugin's look at the machine: driver, devices, memory, and
// whether this build carries code for them. Compiled by nvcc (cuda_probe.cu)
// so the CUDA toolchain and the architecture list are exercised by every
// build, long before the kernels exist.
#pragma once

#include <cstdint>

#include "backends/plugin_abi.h"

namespace ernie::cuda {

// A device needs this much free memory for the plugin to call it usable:
// less cannot hold the smallest ERNIE 4.5 model with a context. The
// per-model check (weights + KV cache, or partial offload) belongs to
// Backend::prepare.
constexpr uint64_t kMinFreeBytes = uint64_t{512} << 20;

// Fills devices, n_devices and a verdict about the driver, the devices and
// the architectures compiled in (never NOT_IMPLEMENTED: that is the
// plugin's call). With ERNIE_PLUGIN_PROBE_FREE_MEMORY in out->flags it also
// reads free memory and applies kMinFreeBytes; that makes the CUDA runtime
// create each device's primary context, as any CUDA use would. Never throws.
void probe_devices(ernie_plugin_probe_result* out);

// "13.0": the CUDA runtime this plugin carries.
const char* runtime_version_string();

}  // namespace ernie::cuda
