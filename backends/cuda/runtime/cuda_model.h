// The CUDA backend's ModelRuntime: the ERNIE 4.5 forward pass (ERNIE45.md §3)
// on one device, over weights uploaded once (device_model.h), one session
// state per session (cuda_session.h).
#pragma once

#include <memory>

#include "backends/backend.h"

namespace ernie::cuda {

// Uploads `weights` to the current CUDA device. Throws ERNIE_E_OUT_OF_MEMORY
// when they do not fit, ERNIE_E_BACKEND on other CUDA errors.
std::unique_ptr<ModelRuntime> make_cuda_runtime(const ModelWeights& weights);

}  // namespace ernie::cuda
