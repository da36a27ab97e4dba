// Internal error type. The core throws ernie::Error; every C API entry point
// catches it (and everything else) and turns it into a status code plus the
// calling thread's last-error message. Nothing thrown here crosses ernie.h.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "ernie.h"

namespace ernie {

class Error : public std::runtime_error {
 public:
  Error(ernie_status status, std::string message)
      : std::runtime_error(std::move(message)), status_(status) {}
  ernie_status status() const { return status_; }

 private:
  ernie_status status_;
};

// printf-style message formatting for errors and logs.
std::string strfmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// A name the caller or the environment supplied, in single quotes for a
// message: bytes outside printable ASCII as \xNN and at most 64 bytes of it
// (then "..."), so the message stays one short line of valid UTF-8 whatever
// the name holds.
std::string quote_name(const std::string& name);

[[noreturn]] void fail(ernie_status status, std::string message);

#define ERNIE_FAIL(status, ...) ::ernie::fail((status), ::ernie::strfmt(__VA_ARGS__))
#define ERNIE_CHECK(cond, status, ...) \
  do {                                 \
    if (!(cond)) ERNIE_FAIL((status), __VA_ARGS__); \
  } while (0)

}  // namespace ernie
