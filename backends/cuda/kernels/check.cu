#include <cstdio>
#include <string>

#include "backends/cuda/kernels/kernels.h"
#include "util/error.h"

namespace ernie::cuda {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw Error(ERNIE_E_BACKEND, std::string("CUDA: ") + what + ": " + cudaGetErrorString(e) + " (" +
                                   cudaGetErrorName(e) + ")");
}

}  // namespace ernie::cuda
