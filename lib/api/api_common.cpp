#include "api/api_common.h"

namespace ernie::api {
namespace {
thread_local std::string t_last_error;
}

void set_last_error(const std::string& message) {
  try {
    t_last_error = message;
  } catch (...) {
    t_last_error.clear();  // out of memory while reporting: keep the status alone
  }
}
void clear_last_error() { t_last_error.clear(); }
const char* last_error() { return t_last_error.c_str(); }

}  // namespace ernie::api

extern "C" ERNIE_API const char* ernie_last_error(void) { return ernie::api::last_error(); }
