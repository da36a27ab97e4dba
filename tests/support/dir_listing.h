// The entry names of a directory, sorted: tests that check a failed or
// cancelled write left nothing (no output, no temp file) behind.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace test {

inline std::vector<std::string> dir_listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace test
