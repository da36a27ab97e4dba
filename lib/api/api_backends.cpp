// C API: the compute backends (candidates, and the one a model runs on).

#include <nlohmann/json.hpp>

#include "api/api_common.h"
#include "api/handles.h"
#include "registry/registry.h"

using namespace ernie;
using ernie::api::guarded;

namespace {

std::string backends_document() {
  const std::vector<BackendCandidate> candidates = list_backends(true);
  const int chosen = pick_backend(candidates, effective_backend_request("auto"));
  nlohmann::ordered_json doc = nlohmann::ordered_json::array();
  for (size_t i = 0; i < candidates.size(); ++i) {
    const BackendCandidate& c = candidates[i];
    nlohmann::ordered_json devices = nlohmann::ordered_json::array();
    for (const BackendDevice& d : c.devices) {
      devices.push_back({{"name", d.name},
                         {"memory_bytes", d.memory_bytes},
                         {"free_bytes", d.free_bytes},
                         {"compute_capability", d.compute_capability}});
    }
    doc.push_back({{"name", c.name},
                   {"version", c.version},
                   {"available", c.available},
                   {"selected_by_auto", static_cast<int>(i) == chosen},
                   {"reason", c.reason},
                   {"path", c.path},
                   {"score", c.score},
                   {"devices", std::move(devices)}});
  }
  // Paths, dlerror texts and device names come from the system, not from us:
  // bytes that are not UTF-8 become U+FFFD instead of failing the dump.
  return doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

extern "C" {

ERNIE_API ernie_status ernie_backends_json(char** out_json, size_t* out_len) {
  return guarded("ernie_backends_json", [&] {
    ERNIE_REQUIRE_ARG(out_json, "ernie_backends_json: out_json is NULL");
    *out_json = nullptr;
    if (out_len) *out_len = 0;
    api::return_text(backends_document(), out_json, out_len);
  });
}

ERNIE_API ernie_status ernie_model_backend(const ernie_model* model, const char** out_name) {
  return guarded("ernie_model_backend", [&] {
    ERNIE_REQUIRE_ARG(out_name, "ernie_model_backend: out_name is NULL");
    *out_name = nullptr;
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_model_backend: model is NULL");
    *out_name = model->impl->backend_name().c_str();
  });
}

}  // extern "C"
