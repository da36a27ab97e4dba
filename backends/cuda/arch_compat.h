// Which GPUs a build of the CUDA plugin has code for. The build passes its
// CMAKE_CUDA_ARCHITECTURES list (e.g. "75-real;80-real;...;120"); a device
// can run the plugin when the list holds SASS it is binary compatible with
// (same major version, minor not above the device's; an arch-specific "90a"
// only on exactly 9.0) or PTX for a compute capability at or below its own
// (the driver compiles it on first use). Header-only and free of CUDA, so the
// CPU test suite checks it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ernie::cuda {

struct CudaArch {
  int major = 0, minor = 0;
  bool sass = false;           // "-real" or plain: machine code
  bool ptx = false;            // "-virtual" or plain: PTX
  bool arch_specific = false;  // "90a": SASS for exactly that compute capability
};

// Parses a CMake CUDA_ARCHITECTURES list (';' or ',' between items). Returns false (and no list) for
// lists whose targets are only known to nvcc ("native", "all", "all-major"),
// in which case compatibility is not checked.
inline bool parse_cuda_architectures(std::string_view list, std::vector<CudaArch>* out) {
  out->clear();
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find_first_of(";,", start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    CudaArch a;
    bool family = false;
    size_t dash = item.find('-');
    std::string_view kind = dash == std::string_view::npos ? std::string_view() : item.substr(dash + 1);
    std::string_view number = item.substr(0, dash);
    // "a": that exact chip; "f": its family, which shares the major version
    // (treated as plain SASS). Neither carries portable PTX.
    if (!number.empty() && (number.back() == 'a' || number.back() == 'f')) {
      a.arch_specific = number.back() == 'a';
      family = number.back() == 'f';
      number.remove_suffix(1);
    }
    int value = 0;
    if (number.size() < 2 || number.size() > 3) return out->clear(), false;
    for (char c : number) {
      if (c < '0' || c > '9') return out->clear(), false;
      value = value * 10 + (c - '0');
    }
    a.major = value / 10;
    a.minor = value % 10;
    if (kind.empty()) {
      a.sass = true;
      a.ptx = !a.arch_specific && !family;
    } else if (kind == "real") {
      a.sass = true;
    } else if (kind == "virtual") {
      a.ptx = true;
    } else {
      return out->clear(), false;
    }
    out->push_back(a);
  }
  return !out->empty();
}

inline bool device_has_code(const std::vector<CudaArch>& archs, int major, int minor) {
  for (const CudaArch& a : archs) {
    if (a.sass && a.major == major && (a.arch_specific ? a.minor == minor : a.minor <= minor)) return true;
    const bool ptx_fits = a.arch_specific ? a.major == major && a.minor == minor
                                          : a.major < major || (a.major == major && a.minor <= minor);
    if (a.ptx && ptx_fits) return true;
  }
  return false;
}

// "sm_75, sm_80, sm_120 + PTX 12.0" for messages.
inline std::string describe_architectures(const std::vector<CudaArch>& archs) {
  std::string sass, ptx;
  for (const CudaArch& a : archs) {
    std::string n = std::to_string(a.major) + std::to_string(a.minor) + (a.arch_specific ? "a" : "");  // "f" prints plain
    if (a.sass) sass += (sass.empty() ? "sm_" : ", sm_") + n;
    if (a.ptx) ptx += (ptx.empty() ? "" : ", ") + std::to_string(a.major) + "." + std::to_string(a.minor);
  }
  if (ptx.empty()) return sass;
  return sass.empty() ? "PTX " + ptx : sass + " + PTX " + ptx;
}

}  // namespace ernie::cuda
