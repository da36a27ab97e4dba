#include "registry/plugin_loader.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "platform/platform.h"
#include "util/error.h"

#ifndef ERNIE_VERSION_STRING
#error "ERNIE_VERSION_STRING must be defined by the build"
#endif
#ifndef ERNIE_INSTALL_LIBDIR
#define ERNIE_INSTALL_LIBDIR "lib"
#endif

namespace ernie {
namespace {

void add_dir(std::vector<std::string>& dirs, std::string dir) {
  if (dir.empty()) return;
  // "bin/../lib" reads (and compares) as "lib"; no file system access.
  dir = std::filesystem::path(dir).lexically_normal().string();
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  for (const auto& d : dirs) {
    if (d == dir) return;
  }
  dirs.push_back(dir);
}

// Checks an entry point that was found; "" when it passes.
std::string check_entry(const std::string& path, const ernie_backend_plugin* e) {
  if (!e) return strfmt("%s: %s returned nothing", path.c_str(), ERNIE_PLUGIN_ENTRY_SYMBOL);
  // abi_version and struct_size come first and are read before anything
  // else: a plugin of another plugin ABI may lay the rest out differently.
  if (e->abi_version != ERNIE_PLUGIN_ABI_VERSION) {
    return strfmt("ABI mismatch: %s has plugin ABI version %u, this library needs %u (install the plugin "
                  "that came with this library)",
                  path.c_str(), e->abi_version, ERNIE_PLUGIN_ABI_VERSION);
  }
  if (e->struct_size < sizeof(ernie_backend_plugin)) {
    return strfmt("ABI mismatch: %s describes itself in %u bytes, this library needs %zu", path.c_str(),
                  e->struct_size, sizeof(ernie_backend_plugin));
  }
  if (!e->core_version || std::strcmp(e->core_version, ERNIE_VERSION_STRING) != 0) {
    return strfmt("version mismatch: %s was built with ernie %s, this library is %s (plugins must come from "
                  "the same build)",
                  path.c_str(), e->core_version ? e->core_version : "(unknown)", ERNIE_VERSION_STRING);
  }
  if (!e->name || !e->version || !e->probe || !e->create_backend) {
    return strfmt("%s: the entry point leaves a required field empty", path.c_str());
  }
  return "";
}

}  // namespace

const std::vector<std::string>& known_plugin_names() {
  static const std::vector<std::string> names = {"cuda"};
  return names;
}

std::vector<std::string> plugin_search_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("ERNIE_PLUGIN_DIR")) {
    std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      add_dir(dirs, list.substr(start, end - start));
      start = end + 1;
    }
  }
  const std::string self = this_module_directory();
  if (!self.empty()) {
    add_dir(dirs, self);
    // An executable in bin/ with the core linked in finds the plugins the
    // library would: in the build tree and in an install, both beside it.
    add_dir(dirs, path_join(self, "../lib"));
    add_dir(dirs, path_join(self, "../" ERNIE_INSTALL_LIBDIR));
  }
  return dirs;
}

PluginLoad load_plugin(const std::string& name, const std::vector<std::string>& dirs) {
  PluginLoad out;
  out.name = name;
  const std::string file = library_file_name("ernie-" + name);
  for (const auto& dir : dirs) {
    std::string candidate = path_join(dir, file);
    if (path_exists(candidate)) {
      out.path = candidate;
      break;
    }
  }
  if (out.path.empty()) {
    std::string where;
    for (const auto& dir : dirs) where += (where.empty() ? "" : ", ") + dir;
    out.error = strfmt("plugin not found: no %s in %s", file.c_str(), where.empty() ? "(no directory)" : where.c_str());
    return out;
  }
  std::string dl_error;
  // RTLD_LOCAL (library_open): the plugin's symbols, and those of the GPU
  // runtime it carries, never satisfy or clash with anyone else's.
  void* handle = library_open(out.path, &dl_error);
  if (!handle) {
    out.error = strfmt("cannot load %s: %s", out.path.c_str(), dl_error.c_str());
    return out;
  }
  auto fn = reinterpret_cast<ernie_backend_plugin_entry_fn>(library_symbol(handle, ERNIE_PLUGIN_ENTRY_SYMBOL));
  if (!fn) {
    out.error = strfmt("%s is not an ernie backend plugin: it has no %s", out.path.c_str(), ERNIE_PLUGIN_ENTRY_SYMBOL);
    return out;
  }
  const ernie_backend_plugin* entry = fn();
  out.error = check_entry(out.path, entry);
  if (out.error.empty()) out.entry = entry;
  // The handle is deliberately never closed (see plugin_loader.h).
  return out;
}

const std::vector<PluginLoad>& process_plugins() {
  // A function-local static: initialised once, thread-safe, never destroyed
  // before the plugins' own static destructors could need it.
  static const std::vector<PluginLoad>* loads = [] {
    auto* v = new std::vector<PluginLoad>();
    const auto dirs = plugin_search_dirs();
    for (const auto& name : known_plugin_names()) v->push_back(load_plugin(name, dirs));
    return v;
  }();
  return *loads;
}

}  // namespace ernie
