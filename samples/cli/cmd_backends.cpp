// `ernie backends [--json]`: every compute backend candidate, whether it is
// available, its devices, and why any was rejected (ernie_backends_json).
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_args.h"

namespace cli {
namespace {

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

void print_table(const nlohmann::json& doc) {
  std::string selected;
  for (const auto& c : doc) {
    const std::string name = c.value("name", "");
    const std::string version = c.value("version", "");
    const bool available = c.value("available", false);
    if (c.value("selected_by_auto", false)) selected = name;
    std::printf("%-6s %-12s %s\n", name.c_str(), available ? "available" : "unavailable",
                version.empty() ? "" : ("version " + version).c_str());
    const std::string path = c.value("path", "");
    if (!path.empty()) std::printf("       plugin  %s\n", path.c_str());
    for (const auto& d : c.value("devices", nlohmann::json::array())) {
      // A GPU's is a compute capability ("8.9"), the CPU's an instruction set.
      std::string cc = d.value("compute_capability", "");
      if (!cc.empty()) cc = (cc[0] >= '0' && cc[0] <= '9' ? ", compute capability " : ", ") + cc;
      std::printf("       device  %s: %s, %s free%s\n", d.value("name", "").c_str(),
                  gib(d.value("memory_bytes", uint64_t{0})).c_str(), gib(d.value("free_bytes", uint64_t{0})).c_str(),
                  cc.c_str());
    }
    const std::string reason = c.value("reason", "");
    if (!reason.empty()) std::printf("       reason  %s\n", reason.c_str());
  }
  const char* env = std::getenv("ERNIE_BACKEND");
  const std::string forced = env && *env ? env : "";
  if (!selected.empty()) {
    std::printf("auto selects: %s%s\n", selected.c_str(),
                forced.empty() || forced == "auto" ? "" : " (forced by ERNIE_BACKEND)");
  } else {
    std::printf("auto selects nothing: ERNIE_BACKEND=%s forces a backend that is not available\n", forced.c_str());
  }
}

}  // namespace

int cmd_backends(const std::vector<std::string>& argv) {
  Args args(argv, {}, {"--json"});
  if (!args.positional().empty()) usage_error("backends takes no arguments");
  char* json = nullptr;
  size_t len = 0;
  check(ernie_backends_json(&json, &len), "cannot list backends");
  std::string text(json, len);
  ernie_free(json);
  if (args.has("--json")) {
    std::printf("%s\n", text.c_str());
    return 0;
  }
  print_table(nlohmann::json::parse(text));
  return 0;
}

}  // namespace cli
