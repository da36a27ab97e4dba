// Finding and loading backend plugins (libernie-<name>.so) and checking
// their entry point (backends/plugin_abi.h) before anything else is trusted.
#pragma once

#include <string>
#include <vector>

#include "backends/plugin_abi.h"

namespace ernie {

// The plugins this build of the core knows how to look for.
const std::vector<std::string>& known_plugin_names();

// Where plugins are looked for, in order: each directory of ERNIE_PLUGIN_DIR
// (':'-separated), then the directory of libernie.so (or of the executable
// the core is linked into) and its ../lib. The first directory holding the
// file wins, so ERNIE_PLUGIN_DIR can override an installed plugin.
std::vector<std::string> plugin_search_dirs();

// The outcome of looking for one plugin.
struct PluginLoad {
  std::string name;  // what users select ("cuda")
  std::string path;  // the file found; "" when none was
  // The checked entry point; nullptr when the plugin was not found, could
  // not be loaded or failed a check, and then `error` says why.
  const ernie_backend_plugin* entry = nullptr;
  std::string error;
};

// Looks for libernie-<name>.so in `dirs`, loads the first one found and
// checks its entry point: symbol present, abi_version, struct_size,
// core_version. Never throws for a bad plugin (the reason goes to `error`);
// a library that loads stays loaded for the life of the process, whatever
// the checks say, because unloading code that may have started threads or
// registered static destructors (a GPU runtime does both) is not safe.
PluginLoad load_plugin(const std::string& name, const std::vector<std::string>& dirs);

// The known plugins, looked for in plugin_search_dirs() once per process (on
// first use, so ERNIE_PLUGIN_DIR is read then). Thread-safe.
const std::vector<PluginLoad>& process_plugins();

}  // namespace ernie
