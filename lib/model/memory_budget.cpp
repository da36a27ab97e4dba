#include "model/memory_budget.h"

#include "util/error.h"

namespace ernie {

void MemoryBudget::take(uint64_t bytes, const char* what) {
  uint64_t used = in_use_.load();
  for (;;) {
    const bool fits = limit_ == 0 || (used <= limit_ && bytes <= limit_ - used);
    if (!fits) {
      ERNIE_FAIL(ERNIE_E_OUT_OF_MEMORY,
                 "%s needs %llu bytes but the model's session memory budget has %llu of %llu bytes left "
                 "(ernie_model_params.session_memory_budget)",
                 what, static_cast<unsigned long long>(bytes),
                 static_cast<unsigned long long>(used <= limit_ ? limit_ - used : 0),
                 static_cast<unsigned long long>(limit_));
    }
    if (in_use_.compare_exchange_weak(used, used + bytes)) return;
  }
}

void BudgetShare::resize(uint64_t bytes, const char* what) {
  if (bytes > bytes_) {
    budget_.take(bytes - bytes_, what);
  } else {
    budget_.give_back(bytes_ - bytes);
  }
  bytes_ = bytes;
}

}  // namespace ernie
