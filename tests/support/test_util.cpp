#include "support/test_util.h"

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <cstring>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "ernie.h"

namespace test {

std::string data_path(const std::string& name) { return std::string(ERNIE_TEST_DATA_DIR) + "/" + name; }

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("ernie-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

const std::string& packed_golden(const std::string& name) {
  static std::mutex mu;
  static TempDir dir;
  static std::map<std::string, std::string> done;
  std::lock_guard<std::mutex> lock(mu);
  auto it = done.find(name);
  if (it != done.end()) return it->second;
  std::string out = dir.file(name + ".ernie");
  ernie_pack_params p;
  ernie_pack_params_init(&p);
  if (ernie_pack(data_path(name).c_str(), out.c_str(), &p) != ERNIE_OK) {
    throw std::runtime_error("packing " + name + " failed: " + ernie_last_error());
  }
  return done.emplace(name, out).first->second;
}

CliRun run_cli(const std::string& args) {
  TempDir dir;
  std::string cmd = std::string(ERNIE_CLI_PATH) + " " + args + " >" + dir.file("out") + " 2>" + dir.file("err");
  int status = std::system(cmd.c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
  r.out = read_file(dir.file("out"));
  r.err = read_file(dir.file("err"));
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::vector<float> read_f32(const std::string& path) {
  std::string bytes = read_file(path);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::vector<GoldenCase> golden_cases(const std::string& name) {
  auto j = nlohmann::json::parse(read_file(data_path(name + "/golden/cases.json")));
  std::vector<GoldenCase> out;
  for (auto& c : j["cases"]) {
    out.push_back({c["ids"].get<std::vector<int32_t>>(),
                   read_f32(data_path(name + "/golden/" + c["logits_file"].get<std::string>())),
                   c["greedy_next_12"].get<std::vector<int32_t>>()});
  }
  return out;
}

}  // namespace test
