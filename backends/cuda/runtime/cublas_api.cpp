#include "backends/cuda/runtime/cublas_api.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "util/error.h"

namespace ernie::cuda {
namespace {

#define ERNIE_STR2(x) #x
#define ERNIE_STR(x) ERNIE_STR2(x)
constexpr const char* kLibrary = "libcublas.so." ERNIE_STR(CUBLAS_VER_MAJOR);

template <class F>
void bind(void* lib, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (!*out) *missing += std::string(missing->empty() ? "" : ", ") + name;
}

}  // namespace

const CublasApi& cublas_api() {
  static std::once_flag once;
  static CublasApi api{};
  static std::string error;
  std::call_once(once, [] {
    // Never closed: cuBLAS keeps threads and state for the process.
    void* lib = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* why = dlerror();
      error = std::string("cannot load ") + kLibrary + " (cuBLAS, from the CUDA toolkit or its redistributable): " +
              (why ? why : "unknown error");
      return;
    }
    std::string missing;
    bind(lib, "cublasCreate_v2", &api.create, &missing);
    bind(lib, "cublasDestroy_v2", &api.destroy, &missing);
    bind(lib, "cublasSetStream_v2", &api.set_stream, &missing);
    bind(lib, "cublasSetMathMode", &api.set_math_mode, &missing);
    bind(lib, "cublasSgemm_v2", &api.sgemm, &missing);
    if (!missing.empty()) error = std::string(kLibrary) + " lacks " + missing;
  });
  if (!error.empty()) throw Error(ERNIE_E_BACKEND, error);
  return api;
}

}  // namespace ernie::cuda
