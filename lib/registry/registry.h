// Run-time backend selection: every candidate (the built-in CPU backend and
// each known plugin), why any is unavailable, and which one a model gets.
// docs/backends.md describes the rules for users.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/plugin_abi.h"
#include "util/logger.h"

namespace ernie {

struct PluginLoad;

// The CPU backend's score: a usable plugin with a higher one wins "auto".
constexpr int32_t kCpuBackendScore = 10;

struct BackendCandidate {
  std::string name;     // "cpu", "cuda"
  std::string version;  // "" when the plugin was not loaded
  std::string path;     // the plugin file; "" for the CPU backend or a plugin not found
  bool available = false;
  std::string reason;   // why not available ("" when it is)
  int32_t score = 0;
  std::vector<BackendDevice> devices;
  const ernie_backend_plugin* plugin = nullptr;  // nullptr for the CPU backend
};

// A plugin as a candidate: a load failure becomes the reason, and a loaded
// plugin is probed now (devices, its verdict, and free memory when
// `free_memory` asks for it: see ERNIE_PLUGIN_PROBE_FREE_MEMORY).
BackendCandidate plugin_candidate(const PluginLoad& load, bool free_memory);

// The CPU backend, then each known plugin of process_plugins(), probed now.
std::vector<BackendCandidate> list_backends(bool free_memory);

// What a request means once the environment is applied: "" or "auto" become
// ERNIE_BACKEND when that is set, else stay "auto".
std::string effective_backend_request(const std::string& requested);

// The index in `candidates` that `request` (already effective) picks:
// "auto" the available candidate with the highest score (the CPU backend
// always is one), a name that candidate when it is available; -1 otherwise.
int pick_backend(const std::vector<BackendCandidate>& candidates, const std::string& request);

struct PreparedBackend {
  std::string name;
  std::unique_ptr<ModelRuntime> runtime;
};

// Prepares `weights` for the backend `requested` ("", "auto", "cpu", "cuda")
// asks for. "cpu" never looks at plugins. "auto" falls back to the CPU when
// the chosen plugin fails to create a backend or to prepare the model (the
// reason is logged as a warning). A forced backend that is unknown or
// unavailable throws ERNIE_E_BACKEND with the reason; its own prepare
// errors propagate (e.g. ERNIE_E_OUT_OF_MEMORY).
PreparedBackend prepare_backend(const std::string& requested, const ModelWeights& weights, const Logger& logger);

}  // namespace ernie
