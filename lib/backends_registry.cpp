// Run-time backend selection. The CPU backend is always compiled in; the CUDA
// backend will be a plugin found and loaded here with library_open().
#include <cstdlib>

#include "backends/backend.h"
#include "util/error.h"

namespace ernie {

std::unique_ptr<Backend> select_backend(const std::string& requested) {
  std::string name = requested.empty() ? "auto" : requested;
  if (name == "auto") {
    const char* env = std::getenv("ERNIE_BACKEND");
    if (env && *env) name = env;
  }
  if (name == "auto" || name == "cpu") return make_cpu_backend();
  ERNIE_FAIL(ERNIE_E_BACKEND, "backend '%s' is not available (available: cpu)", name.c_str());
}

}  // namespace ernie
