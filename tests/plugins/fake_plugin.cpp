// Fake backend plugins for tests/unit/test_backends.cpp. One source, built
// several times (tests/CMakeLists.txt), each variant a libernie-cuda.so in
// its own directory that ERNIE_PLUGIN_DIR can point at:
//   FAKE_NO_ENTRY            a shared library without the entry point
//   FAKE_ABI_VERSION=n       another plugin ABI version
//   FAKE_STRUCT_SIZE=n       an entry struct smaller than the core's
//   FAKE_CORE_VERSION="x"    built with another ernie version
//   (none of these)          a usable "cuda" plugin with one fake device,
//                            score 1000, whose Backend::prepare always fails
//                            (so "auto" must fall back to the CPU).
#include <cstdio>
#include <cstring>

#include "backends/backend.h"
#include "backends/plugin_abi.h"
#include "util/error.h"

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION ERNIE_PLUGIN_ABI_VERSION
#endif
#ifndef FAKE_STRUCT_SIZE
#define FAKE_STRUCT_SIZE sizeof(ernie_backend_plugin)
#endif
#ifndef FAKE_CORE_VERSION
#define FAKE_CORE_VERSION ERNIE_VERSION_STRING
#endif

#ifdef FAKE_NO_ENTRY
extern "C" __attribute__((visibility("default"))) int fake_plugin_without_entry(void) { return 1; }
#else
namespace {

class FakeBackend final : public ernie::Backend {
 public:
  std::string name() const override { return "cuda"; }
  std::unique_ptr<ernie::ModelRuntime> prepare(const ernie::ModelWeights&) const override {
    throw ernie::Error(ERNIE_E_BACKEND, "fake plugin: prepare always fails");
  }
};

void probe(ernie_plugin_probe_result* out) {
  out->verdict = ERNIE_PLUGIN_USABLE;
  out->n_devices = 1;
  std::snprintf(out->devices[0].name, sizeof out->devices[0].name, "Fake GPU");
  out->devices[0].memory_bytes = uint64_t{24} << 30;
  out->devices[0].free_bytes = uint64_t{20} << 30;
  out->devices[0].cc_major = 8;
  out->devices[0].cc_minor = 9;
}

ernie::Backend* create_backend(char*, size_t) { return new FakeBackend(); }

}  // namespace

extern "C" __attribute__((visibility("default"))) const ernie_backend_plugin* ernie_backend_plugin_entry(void) {
  static const ernie_backend_plugin entry = {
      FAKE_ABI_VERSION, static_cast<uint32_t>(FAKE_STRUCT_SIZE), FAKE_CORE_VERSION, "cuda", "fake-1.0", 1000,
      probe, create_backend,
  };
  return &entry;
}
#endif
