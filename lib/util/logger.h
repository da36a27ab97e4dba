// The per-model log sink: a caller-supplied callback, or silence. There is no
// global logger: each model (and each pack call) carries its own.
#pragma once

#include <string>

#include "ernie.h"

namespace ernie {

class Logger {
 public:
  Logger() = default;
  Logger(ernie_log_fn fn, void* user_data, int32_t max_level) : fn_(fn), user_data_(user_data), max_level_(max_level) {}
  bool enabled(int32_t level) const { return fn_ && level <= max_level_; }
  void log(int32_t level, const std::string& message) const {
    if (enabled(level)) fn_(user_data_, level, message.c_str());
  }

 private:
  ernie_log_fn fn_ = nullptr;
  void* user_data_ = nullptr;
  int32_t max_level_ = ERNIE_LOG_WARN;
};

}  // namespace ernie
