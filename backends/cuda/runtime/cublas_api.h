// cuBLAS, loaded on first use (dlopen) rather than linked: loading the plugin
// to probe for a GPU, which every "auto" model load does, must not map
// cuBLAS's hundreds of megabytes, and a machine with the driver but without
// cuBLAS still gets a plugin that says what is missing.
#pragma once

#include <cublas_v2.h>

namespace ernie::cuda {

// The few cuBLAS functions the prefill products use.
struct CublasApi {
  cublasStatus_t (*create)(cublasHandle_t*);
  cublasStatus_t (*destroy)(cublasHandle_t);
  cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t);
  cublasStatus_t (*set_math_mode)(cublasHandle_t, cublasMath_t);
  cublasStatus_t (*sgemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const float*,
                          const float*, int, const float*, int, const float*, float*, int);
};

// Loads libcublas.so.<major> once per process. Throws ERNIE_E_BACKEND
// naming the library and the loader's message when it is missing.
const CublasApi& cublas_api();

}  // namespace ernie::cuda
