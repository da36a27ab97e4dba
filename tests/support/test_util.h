// Shared helpers of the test suite: paths, temporary directories, golden
// data, and packed copies of the golden checkpoints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace test {

// tests/data/<name>
std::string data_path(const std::string& name);

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The golden checkpoint tests/data/<name> packed with ernie_pack (once per
// test run, cached in a temp dir that lives until the process exits).
const std::string& packed_golden(const std::string& name);

// The `ernie` CLI run through the shell with `args` (quoted as needed by the
// caller): exit code (1000 + signal if killed), stdout and stderr.
struct CliRun {
  int code;
  std::string out, err;
};
CliRun run_cli(const std::string& args);

// The golden cases of checkpoint tests/data/<name> (golden/cases.json): prompt
// ids, the float64 reference logits of every position [ids][vocab], and the
// greedy continuation.
struct GoldenCase {
  std::vector<int32_t> ids;
  std::vector<float> logits;
  std::vector<int32_t> greedy;
};
std::vector<GoldenCase> golden_cases(const std::string& name);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
std::vector<float> read_f32(const std::string& path);

}  // namespace test
