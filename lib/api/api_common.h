// What every C API entry point shares: the thread-local last error, the
// exception firewall, and reading caller params structs of any struct_size.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <string>

#include "ernie.h"
#include "util/error.h"

namespace ernie::api {

void set_last_error(const std::string& message);
void clear_last_error();
const char* last_error();

// Runs `body` (returning ernie_status or void) and converts anything it throws
// into a status and last-error message. Use in every fallible entry point.
template <typename F>
ernie_status guarded(const char* function, F&& body) noexcept {
  try {
    clear_last_error();
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      return ERNIE_OK;
    } else {
      return body();
    }
  } catch (const Error& e) {
    set_last_error(e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    set_last_error(std::string(function) + ": out of memory");
    return ERNIE_E_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(std::string(function) + ": internal error: " + e.what());
    return ERNIE_E_INTERNAL;
  } catch (...) {
    set_last_error(std::string(function) + ": internal error");
    return ERNIE_E_INTERNAL;
  }
}

// The params structs' sizes in ABI 1.0. The unsized *_params_init entry
// points serve binaries built against that header and must never write
// more; the *_init macros of later headers call the _sized functions.
inline constexpr size_t kModelParamsSize1_0 = 64;
inline constexpr size_t kSessionParamsSize1_0 = 24;
inline constexpr size_t kSamplingParamsSize1_0 = 72;
inline constexpr size_t kGenerateParamsSize1_0 = 120;
inline constexpr size_t kChatParamsSize1_0 = 80;
inline constexpr size_t kPackParamsSize1_0 = 48;

// Fills the first `size` bytes of a caller's params struct with the defaults
// `fill` writes into a full struct, zeroes bytes past the library's struct (a
// newer header's fields) and records `size` in struct_size. Sizes outside
// [sizeof(size_t), 64 KiB] are ignored (no write): they are not a struct.
template <typename T>
void init_params(T* p, size_t size, void (*fill)(T*)) {
  if (!p || size < sizeof(size_t) || size > (1u << 16)) return;
  T defaults;
  fill(&defaults);
  const size_t n = size < sizeof(T) ? size : sizeof(T);
  std::memcpy(static_cast<void*>(p), &defaults, n);
  if (size > n) std::memset(reinterpret_cast<unsigned char*>(p) + n, 0, size - n);
  p->struct_size = size;
}

// Defines the _sized and the ABI 1.0 entry points of one params struct from
// a function that fills a full struct with its defaults.
#define ERNIE_PARAMS_INIT(name, type, size_1_0, fill)                                         \
  static_assert(size_1_0 <= sizeof(type), "structs only grow");                               \
  extern "C" ERNIE_API void name##_sized(type* p, size_t size) { ::ernie::api::init_params(p, size, fill); } \
  extern "C" ERNIE_API void(name)(type * p) { ::ernie::api::init_params(p, size_1_0, fill); }

// Copies a caller's params struct into `out` (already holding defaults),
// honouring the caller's struct_size: an older, smaller struct keeps the
// defaults for fields it lacks; a larger one (newer header) is accepted when
// its struct_size is at least the first field.
template <typename T>
void read_params(const T* in, T* out, const char* what) {
  if (!in) return;
  ERNIE_CHECK(in->struct_size >= sizeof(size_t) && in->struct_size <= (1u << 16),
              ERNIE_E_INVALID_ARGUMENT, "%s: struct_size %zu is invalid (call the *_init function first)",
              what, in->struct_size);
  size_t n = in->struct_size < sizeof(T) ? in->struct_size : sizeof(T);
  std::memcpy(static_cast<void*>(out), in, n);
  out->struct_size = sizeof(T);
}

#define ERNIE_REQUIRE_ARG(cond, ...) ERNIE_CHECK((cond), ERNIE_E_INVALID_ARGUMENT, __VA_ARGS__)

// Hands `text` to the caller as a NUL-terminated copy it frees with
// ernie_free (*out_len, when asked for, excludes the NUL).
void return_text(const std::string& text, char** out_text, size_t* out_len);

}  // namespace ernie::api
