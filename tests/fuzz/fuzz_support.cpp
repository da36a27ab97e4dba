#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

namespace fuzz {
namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz setup failed: %s (%s)\n", what.c_str(), ernie_last_error());
  std::abort();
}

struct Scratch {
  std::string path;
  Scratch() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ernie-fuzz-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) die("mkdtemp");
    path = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

std::string data_path(const std::string& name) { return std::string(ERNIE_FUZZ_DATA_DIR) + "/" + name; }

const std::string& scratch_dir() {
  static Scratch scratch;
  return scratch.path;
}

const std::string& packed_tiny_model() {
  static const std::string path = [] {
    std::string out = scratch_dir() + "/tiny-moe-a.ernie";
    if (ernie_pack(data_path("tiny-moe-a").c_str(), out.c_str(), nullptr) != ERNIE_OK) die("pack tiny-moe-a");
    return out;
  }();
  return path;
}

ernie_model* tiny_model() {
  static ernie_model* model = [] {
    ernie_model_params p;
    ernie_model_params_init(&p);
    p.n_threads = 1;
    ernie_model* m = nullptr;
    if (ernie_model_load(packed_tiny_model().c_str(), &p, &m) != ERNIE_OK) die("load tiny-moe-a");
    return m;
  }();
  return model;
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) die("write " + path);
}

std::pair<std::string_view, std::string_view> split_once(std::string_view in, char sep) {
  size_t at = in.find(sep);
  if (at == std::string_view::npos) return {in, {}};
  return {in.substr(0, at), in.substr(at + 1)};
}

}  // namespace fuzz
