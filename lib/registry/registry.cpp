// Run-time backend selection. The CPU backend is compiled in and always
// available; plugins come from plugin_loader.cpp and are probed each time
// the candidates are listed, so free memory and verdicts are current.
#include "registry/registry.h"

#include <cstdlib>
#include <exception>
#include <new>

#include "registry/plugin_loader.h"
#include "util/error.h"

namespace ernie {
namespace {

// Copies a fixed-size C string from a plugin, terminated whatever it wrote.
template <size_t N>
std::string bounded(const char (&s)[N]) {
  size_t n = 0;
  while (n < N && s[n]) ++n;
  return std::string(s, n);
}

BackendCandidate cpu_candidate() {
  BackendCandidate c;
  c.name = "cpu";
  c.version = ERNIE_VERSION_STRING;
  c.available = true;
  c.score = kCpuBackendScore;
  c.devices.push_back(describe_cpu_device());
  return c;
}

std::string known_names() {
  std::string s = "auto, cpu";
  for (const auto& n : known_plugin_names()) s += ", " + n;
  return s;
}

}  // namespace

BackendCandidate plugin_candidate(const PluginLoad& load, bool free_memory) {
  BackendCandidate c;
  c.name = load.name;
  c.path = load.path;
  if (!load.entry) {
    c.reason = load.error;
    return c;
  }
  const ernie_backend_plugin& p = *load.entry;
  c.plugin = &p;
  c.version = p.version;
  c.score = p.score;
  ernie_plugin_probe_result r{};
  r.struct_size = sizeof r;
  r.flags = free_memory ? ERNIE_PLUGIN_PROBE_FREE_MEMORY : 0u;
  r.verdict = ERNIE_PLUGIN_FAILED;
  p.probe(&r);
  const int32_t n = r.n_devices < 0 ? 0 : (r.n_devices > ERNIE_PLUGIN_MAX_DEVICES ? ERNIE_PLUGIN_MAX_DEVICES : r.n_devices);
  for (int32_t i = 0; i < n; ++i) {
    const ernie_plugin_device& d = r.devices[i];
    BackendDevice dev;
    dev.name = bounded(d.name);
    dev.memory_bytes = d.memory_bytes;
    dev.free_bytes = d.free_bytes;
    if (d.cc_major > 0) dev.compute_capability = std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor);
    c.devices.push_back(std::move(dev));
  }
  c.available = r.verdict == ERNIE_PLUGIN_USABLE;
  if (!c.available) {
    c.reason = bounded(r.reason);
    if (c.reason.empty()) c.reason = strfmt("the plugin's probe failed (verdict %d) without saying why", r.verdict);
  }
  return c;
}

std::vector<BackendCandidate> list_backends(bool free_memory) {
  std::vector<BackendCandidate> out;
  out.push_back(cpu_candidate());
  for (const auto& load : process_plugins()) out.push_back(plugin_candidate(load, free_memory));
  return out;
}

std::string effective_backend_request(const std::string& requested) {
  std::string name = requested.empty() ? "auto" : requested;
  if (name == "auto") {
    const char* env = std::getenv("ERNIE_BACKEND");
    if (env && *env) name = env;
  }
  return name;
}

int pick_backend(const std::vector<BackendCandidate>& candidates, const std::string& request) {
  int best = -1;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const BackendCandidate& c = candidates[i];
    if (!c.available) continue;
    if (request == "auto") {
      // Ties keep the earlier candidate: the CPU backend comes first.
      if (best < 0 || c.score > candidates[static_cast<size_t>(best)].score) best = static_cast<int>(i);
    } else if (c.name == request) {
      return static_cast<int>(i);
    }
  }
  return best;
}

PreparedBackend prepare_backend(const std::string& requested, const ModelWeights& weights, const Logger& logger) {
  const std::string request = effective_backend_request(requested);
  const bool from_env = request != (requested.empty() ? "auto" : requested);
  const char* origin = from_env ? " (from ERNIE_BACKEND)" : "";
  PreparedBackend out;
  auto use_cpu = [&] {
    out.name = "cpu";
    out.runtime = make_cpu_backend()->prepare(weights);
    return std::move(out);
  };
  // Forcing the CPU never loads or probes a plugin.
  if (request == "cpu") return use_cpu();

  // No free-memory probe: whether the model fits is the backend's prepare()
  // to decide, and measuring would cost device memory for nothing when the
  // CPU ends up chosen.
  const auto candidates = list_backends(false);
  const int pick = pick_backend(candidates, request);
  if (pick < 0) {
    for (const auto& c : candidates) {
      if (c.name == request) {
        ERNIE_FAIL(ERNIE_E_BACKEND, "backend %s%s is not available: %s", quote_name(request).c_str(), origin,
                   c.reason.c_str());
      }
    }
    ERNIE_FAIL(ERNIE_E_BACKEND, "unknown backend %s%s (known: %s)", quote_name(request).c_str(), origin,
               known_names().c_str());
  }
  const BackendCandidate& chosen = candidates[static_cast<size_t>(pick)];
  if (!chosen.plugin) return use_cpu();

  const bool forced = request != "auto";
  char error[512] = {0};
  std::unique_ptr<Backend> backend(chosen.plugin->create_backend(error, sizeof error));
  std::string why;
  if (!backend) {
    error[sizeof error - 1] = '\0';
    why = strfmt("backend '%s' could not start: %s", chosen.name.c_str(), error[0] ? error : "no reason given");
    if (forced) ERNIE_FAIL(ERNIE_E_BACKEND, "%s", why.c_str());
  } else if (forced) {
    out.name = chosen.name;
    out.runtime = backend->prepare(weights);
    return out;
  } else {
    // "auto" must never end in a failure the CPU backend would not have
    // had: whatever the plugin throws while preparing sends us to the CPU.
    try {
      out.runtime = backend->prepare(weights);
      out.name = chosen.name;
      return out;
    } catch (const std::exception& e) {
      why = strfmt("backend '%s' could not prepare the model: %s", chosen.name.c_str(), e.what());
    } catch (...) {
      why = strfmt("backend '%s' could not prepare the model", chosen.name.c_str());
    }
  }
  logger.log(ERNIE_LOG_WARN, why + "; using the cpu backend");
  out.runtime.reset();
  return use_cpu();
}

}  // namespace ernie
