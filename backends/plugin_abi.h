// The entry point of a backend plugin (libernie-<name>.so, e.g. the CUDA
// backend): what the core's loader (lib/registry/plugin_loader.cpp) looks up
// after dlopen, and everything it checks before trusting the library.
//
// This is an internal interface, not part of ernie.h: a plugin is built from
// the same source tree, with the same compiler and standard library, as the
// libernie it ships with, because create_backend hands C++ objects
// (ernie::Backend and what it makes) across the boundary. Three guards catch
// a plugin from another build before any of that happens:
//   - abi_version: ERNIE_PLUGIN_ABI_VERSION, bumped whenever this struct,
//     backends/backend.h, model/weights.h or anything else a plugin shares
//     with the core changes incompatibly;
//   - struct_size: sizeof(ernie_backend_plugin) as the plugin saw it (the
//     struct only grows at its end within one abi_version; the core refuses
//     a smaller one);
//   - core_version: the library version of the tree the plugin was built
//     from, which must equal the loading library's (same tree, same layouts).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ernie {
class Backend;
}

#define ERNIE_PLUGIN_ABI_VERSION 1u
#define ERNIE_PLUGIN_ENTRY_SYMBOL "ernie_backend_plugin_entry"
#define ERNIE_PLUGIN_MAX_DEVICES 16

// Why a plugin cannot run here, as a class; `reason` says it in words.
enum ernie_plugin_verdict : int32_t {
  ERNIE_PLUGIN_USABLE = 0,
  ERNIE_PLUGIN_NO_DRIVER = 1,          // the vendor driver is missing or too old
  ERNIE_PLUGIN_NO_DEVICE = 2,          // the driver sees no device
  ERNIE_PLUGIN_UNSUPPORTED_DEVICE = 3, // no device this build has code for
  ERNIE_PLUGIN_TOO_LITTLE_MEMORY = 4,  // no device with enough free memory
  ERNIE_PLUGIN_NOT_IMPLEMENTED = 5,    // the forward pass is not in this build
  ERNIE_PLUGIN_FAILED = 6,             // any other error of the probe
};

struct ernie_plugin_device {
  char name[256];            // NUL-terminated
  uint64_t memory_bytes;     // total device memory
  uint64_t free_bytes;       // free when probed; 0 when not asked for
  int32_t cc_major, cc_minor;  // compute capability (CUDA); 0.0 when not applicable
};

// Asks probe() for each device's free memory. Measuring it can cost the
// process device memory (the CUDA runtime creates a context per device), so
// the core asks only when listing candidates for a person (ernie backends);
// selection leaves the per-model memory decision to Backend::prepare.
#define ERNIE_PLUGIN_PROBE_FREE_MEMORY 1u

// Filled by probe(). The core zeroes it and sets struct_size and flags
// before the call.
struct ernie_plugin_probe_result {
  size_t struct_size;
  uint32_t flags;   // in: ERNIE_PLUGIN_PROBE_* bits
  int32_t verdict;  // ernie_plugin_verdict
  char reason[512]; // NUL-terminated; empty when verdict is ERNIE_PLUGIN_USABLE
  int32_t n_devices;  // devices found, usable or not (0..ERNIE_PLUGIN_MAX_DEVICES)
  ernie_plugin_device devices[ERNIE_PLUGIN_MAX_DEVICES];
};

struct ernie_backend_plugin {
  uint32_t abi_version;     // ERNIE_PLUGIN_ABI_VERSION
  uint32_t struct_size;     // sizeof(ernie_backend_plugin)
  const char* core_version; // ERNIE_VERSION_STRING of the tree it was built from
  const char* name;         // backend name users select: "cuda"
  const char* version;      // the plugin's own version (and its runtime's), for `ernie backends`
  int32_t score;            // auto picks the usable candidate with the highest score (cpu: 10)
  // Looks for drivers and devices. Must not throw, must be thread-safe and
  // may be called more than once (each listing or selection probes again, so
  // free memory is current).
  void (*probe)(ernie_plugin_probe_result* out);
  // A new backend (owned by the caller, deleted through its virtual
  // destructor), or nullptr with a NUL-terminated message in `error`. Must
  // not throw. Its prepare() and what that returns may throw ernie::Error
  // (the core catches it); the ModelRuntime prepare() returns must not
  // depend on the Backend, which the core deletes right after.
  ernie::Backend* (*create_backend)(char* error, size_t error_capacity);
};

// The one symbol a plugin exports: a static description, valid as long as
// the plugin is loaded (the core never unloads plugins).
extern "C" {
typedef const ernie_backend_plugin* (*ernie_backend_plugin_entry_fn)(void);
}
