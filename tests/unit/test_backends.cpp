// Backend selection and plugins (docs/backends.md): the loader's checks on
// fake plugins (tests/plugins/), the process's candidates with the real CUDA
// plugin when this build has one, forcing by param and by ERNIE_BACKEND, and
// the CLI with ERNIE_PLUGIN_DIR pointing at each fake — a broken plugin must
// never break the CPU path.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "backends/cuda/arch_compat.h"
#include "ernie.h"
#include "registry/plugin_loader.h"
#include "registry/registry.h"
#include "support/test_util.h"

namespace {

const std::string kFakeRoot = ERNIE_FAKE_PLUGIN_ROOT;
std::string fake_dir(const std::string& kind) { return kFakeRoot + "/" + kind; }

// Sets (or unsets) an environment variable for one scope. The process's
// plugin scan happens first, so a plugin directory set here reaches only
// the CLI subprocesses, never this process's cached candidates.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    (void)ernie::process_plugins();
    if (const char* old = std::getenv(name)) saved_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~EnvVar() {
    if (saved_) {
      setenv(name_, saved_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

nlohmann::json backends_json() {
  char* text = nullptr;
  size_t len = 0;
  REQUIRE_MESSAGE(ernie_backends_json(&text, &len) == ERNIE_OK, ernie_last_error());
  REQUIRE(text != nullptr);
  CHECK(std::strlen(text) == len);
  std::string s(text, len);
  ernie_free(text);
  return nlohmann::json::parse(s);
}

const nlohmann::json* find(const nlohmann::json& doc, const std::string& name) {
  for (const auto& c : doc) {
    if (c.at("name") == name) return &c;
  }
  return nullptr;
}

ernie_status load(const char* backend, ernie_model** out) {
  ernie_model_params p;
  ernie_model_params_init(&p);
  p.backend = backend;
  return ernie_model_load(test::packed_golden("tiny-moe-a").c_str(), &p, out);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("backends: CUDA architecture lists and which devices they cover") {
  using ernie::cuda::CudaArch;
  std::vector<CudaArch> a;
  REQUIRE(ernie::cuda::parse_cuda_architectures("75-real;80-real;86-real;89-real;90-real;120", &a));
  REQUIRE(a.size() == 6);
  CHECK(ernie::cuda::describe_architectures(a) == "sm_75, sm_80, sm_86, sm_89, sm_90, sm_120 + PTX 12.0");
  CHECK(ernie::cuda::device_has_code(a, 7, 5));
  CHECK(ernie::cuda::device_has_code(a, 8, 7));    // sm_86 SASS runs on 8.7
  CHECK(ernie::cuda::device_has_code(a, 10, 0) == false);  // SASS is per major, PTX only 12.0+
  CHECK(ernie::cuda::device_has_code(a, 12, 1));
  CHECK(ernie::cuda::device_has_code(a, 13, 0));   // PTX 12.0 is compiled by the driver
  CHECK(ernie::cuda::device_has_code(a, 6, 1) == false);

  REQUIRE(ernie::cuda::parse_cuda_architectures("90", &a));  // what CI builds
  CHECK(ernie::cuda::device_has_code(a, 9, 0));
  CHECK(ernie::cuda::device_has_code(a, 10, 0));
  CHECK(ernie::cuda::device_has_code(a, 8, 9) == false);
  REQUIRE(ernie::cuda::parse_cuda_architectures("90a-real,80-real", &a));  // ',' as the build passes it
  CHECK(ernie::cuda::device_has_code(a, 9, 0));
  CHECK(ernie::cuda::device_has_code(a, 8, 6));
  CHECK(ernie::cuda::device_has_code(a, 10, 0) == false);
  CHECK(ernie::cuda::describe_architectures(a) == "sm_90a, sm_80");

  CHECK_FALSE(ernie::cuda::parse_cuda_architectures("native", &a));
  CHECK_FALSE(ernie::cuda::parse_cuda_architectures("all-major", &a));
  CHECK_FALSE(ernie::cuda::parse_cuda_architectures("", &a));
  CHECK(a.empty());
}

TEST_CASE("backends: the loader rejects each broken plugin and says why") {
  struct Case {
    const char* kind;
    const char* reason;
  };
  const Case cases[] = {
      {"no_entry", "is not an ernie backend plugin: it has no ernie_backend_plugin_entry"},
      {"bad_abi", "has plugin ABI version 99, this library needs 1"},
      {"small_struct", "describes itself in 16 bytes"},
      {"old_core", "version mismatch: "},
  };
  for (const Case& c : cases) {
    CAPTURE(c.kind);
    ernie::PluginLoad load = ernie::load_plugin("cuda", {fake_dir(c.kind)});
    CHECK(load.entry == nullptr);
    CHECK(load.path == fake_dir(c.kind) + "/libernie-cuda.so");
    CHECK_MESSAGE(contains(load.error, c.reason), load.error);
    ernie::BackendCandidate cand = ernie::plugin_candidate(load, true);
    CHECK(cand.name == "cuda");
    CHECK_FALSE(cand.available);
    CHECK(cand.reason == load.error);
    CHECK(cand.devices.empty());
  }
  CHECK(contains(ernie::load_plugin("cuda", {fake_dir("bad_abi")}).error, "ABI mismatch: "));
  CHECK(contains(ernie::load_plugin("cuda", {fake_dir("old_core")}).error, "was built with ernie 0.0.1"));

  // Not there at all, and a file that is not a shared library.
  test::TempDir empty;
  ernie::PluginLoad missing = ernie::load_plugin("cuda", {empty.path().string(), "/nonexistent"});
  CHECK(missing.path.empty());
  CHECK_MESSAGE(contains(missing.error, "plugin not found: no libernie-cuda.so in " + empty.path().string() +
                                            ", /nonexistent"),
                missing.error);
  test::TempDir garbage;
  test::write_file(garbage.file("libernie-cuda.so"), "this is not an ELF file\n");
  ernie::PluginLoad bad = ernie::load_plugin("cuda", {garbage.path().string()});
  CHECK(bad.entry == nullptr);
  CHECK_MESSAGE(contains(bad.error, "cannot load " + garbage.file("libernie-cuda.so") + ": "), bad.error);

  // The first directory holding the file wins (ERNIE_PLUGIN_DIR comes first).
  ernie::PluginLoad first = ernie::load_plugin("cuda", {empty.path().string(), fake_dir("usable"), fake_dir("no_entry")});
  CHECK(first.path == fake_dir("usable") + "/libernie-cuda.so");
  CHECK(first.entry != nullptr);
}

TEST_CASE("backends: a usable plugin is probed and auto prefers it by score") {
  ernie::PluginLoad load = ernie::load_plugin("cuda", {fake_dir("usable")});
  REQUIRE_MESSAGE(load.entry != nullptr, load.error);
  ernie::BackendCandidate fake = ernie::plugin_candidate(load, true);
  CHECK(fake.available);
  CHECK(fake.reason.empty());
  CHECK(fake.version == "fake-1.0");
  CHECK(fake.score == 1000);
  REQUIRE(fake.devices.size() == 1);
  CHECK(fake.devices[0].name == "Fake GPU");
  CHECK(fake.devices[0].memory_bytes == uint64_t{24} << 30);
  CHECK(fake.devices[0].compute_capability == "8.9");

  std::vector<ernie::BackendCandidate> candidates = ernie::list_backends(false);
  REQUIRE(candidates.size() >= 1);
  REQUIRE(candidates[0].name == "cpu");
  candidates.resize(1);
  candidates.push_back(fake);
  CHECK(ernie::pick_backend(candidates, "auto") == 1);
  CHECK(ernie::pick_backend(candidates, "cpu") == 0);
  CHECK(ernie::pick_backend(candidates, "cuda") == 1);
  CHECK(ernie::pick_backend(candidates, "quantum") == -1);
  candidates[1].available = false;
  CHECK(ernie::pick_backend(candidates, "auto") == 0);
  CHECK(ernie::pick_backend(candidates, "cuda") == -1);
}

TEST_CASE("backends: this process lists cpu (picked by auto) and cuda with a reason") {
  if (std::getenv("ERNIE_PLUGIN_DIR") || std::getenv("ERNIE_BACKEND")) {
    MESSAGE("skipped: ERNIE_PLUGIN_DIR or ERNIE_BACKEND is set in the environment");
    return;
  }
  nlohmann::json doc = backends_json();
  REQUIRE(doc.is_array());
  REQUIRE(doc.size() == 2);
  CHECK(doc[0]["name"] == "cpu");
  const nlohmann::json* cpu = find(doc, "cpu");
  REQUIRE(cpu);
  CHECK((*cpu)["available"] == true);
  CHECK((*cpu)["selected_by_auto"] == true);
  CHECK((*cpu)["reason"] == "");
  CHECK((*cpu)["version"] == ernie_version_string());
  REQUIRE((*cpu)["devices"].size() == 1);
  CHECK((*cpu)["devices"][0]["memory_bytes"].get<uint64_t>() > 0);
  CHECK((*cpu)["devices"][0]["compute_capability"].get<std::string>().size() > 0);

  const nlohmann::json* cuda = find(doc, "cuda");
  REQUIRE(cuda);
  CHECK((*cuda)["available"] == false);
  CHECK((*cuda)["selected_by_auto"] == false);
  const std::string reason = (*cuda)["reason"];
  MESSAGE("cuda: " << reason);
  CHECK(!reason.empty());
#ifdef ERNIE_TEST_CUDA_PLUGIN
  // Built here: found beside the tests' build, loaded, probed and rejected
  // for what the machine lacks (no driver, no device), or, on a GPU, because
  // the forward pass is not validated yet (ERNIE_CUDA_EXPERIMENTAL unset).
  CHECK(contains((*cuda)["path"].get<std::string>(), "/libernie-cuda.so"));
  CHECK(contains((*cuda)["version"].get<std::string>(), "CUDA runtime"));
  CHECK_FALSE(contains(reason, "plugin not found"));
  CHECK_FALSE(contains(reason, "cannot load"));
#else
  // Not built (a stale file from an earlier build would be loaded, rightly).
  if ((*cuda)["path"] == "") CHECK(contains(reason, "plugin not found: no libernie-cuda.so in "));
#endif
}

TEST_CASE("backends: a model gets cpu from auto and forcing cuda fails with the reason") {
  if (std::getenv("ERNIE_PLUGIN_DIR") || std::getenv("ERNIE_BACKEND")) {
    MESSAGE("skipped: ERNIE_PLUGIN_DIR or ERNIE_BACKEND is set in the environment");
    return;
  }
  ernie_model* m = nullptr;
  REQUIRE_MESSAGE(load(nullptr, &m) == ERNIE_OK, ernie_last_error());
  const char* name = nullptr;
  CHECK(ernie_model_backend(m, &name) == ERNIE_OK);
  CHECK(std::string(name) == "cpu");
  CHECK(ernie_model_backend(m, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  ernie_model_free(m);
  CHECK(ernie_model_backend(nullptr, &name) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_backends_json(nullptr, nullptr) == ERNIE_E_INVALID_ARGUMENT);

  const std::string reason = (*find(backends_json(), "cuda"))["reason"];
  m = nullptr;
  CHECK(load("cuda", &m) == ERNIE_E_BACKEND);
  CHECK(m == nullptr);
  CHECK(std::string(ernie_last_error()) == "backend 'cuda' is not available: " + reason);

  CHECK(load("quantum", &m) == ERNIE_E_BACKEND);
  CHECK(std::string(ernie_last_error()) == "unknown backend 'quantum' (known: auto, cpu, cuda)");
  // A hostile name is quoted, not copied: one short line of valid UTF-8.
  CHECK(load((std::string(5000, 'x') + "\xff").c_str(), &m) == ERNIE_E_BACKEND);
  CHECK(std::string(ernie_last_error()).size() < 200);
  CHECK(load("q\xff\xfe\n", &m) == ERNIE_E_BACKEND);
  CHECK(std::string(ernie_last_error()) == "unknown backend 'q\\xff\\xfe\\x0a' (known: auto, cpu, cuda)");

  REQUIRE(load("cpu", &m) == ERNIE_OK);
  ernie_model_free(m);
}

TEST_CASE("backends: ERNIE_BACKEND overrides auto, not an explicit choice") {
  if (std::getenv("ERNIE_PLUGIN_DIR")) {
    MESSAGE("skipped: ERNIE_PLUGIN_DIR is set in the environment");
    return;
  }
  ernie_model* m = nullptr;
  {
    EnvVar env("ERNIE_BACKEND", "cuda");
    CHECK(load(nullptr, &m) == ERNIE_E_BACKEND);
    CHECK(contains(ernie_last_error(), "backend 'cuda' (from ERNIE_BACKEND) is not available: "));
    CHECK(load("auto", &m) == ERNIE_E_BACKEND);
    // Nothing would be selected by auto now, and the listing says so.
    for (const auto& c : backends_json()) CHECK(c["selected_by_auto"] == false);
    REQUIRE_MESSAGE(load("cpu", &m) == ERNIE_OK, ernie_last_error());
    ernie_model_free(m);
  }
  {
    EnvVar env("ERNIE_BACKEND", "cpu");
    REQUIRE(load(nullptr, &m) == ERNIE_OK);
    const char* name = nullptr;
    CHECK(ernie_model_backend(m, &name) == ERNIE_OK);
    CHECK(std::string(name) == "cpu");
    ernie_model_free(m);
    CHECK(load("cuda", &m) == ERNIE_E_BACKEND);
  }
  {
    EnvVar env("ERNIE_BACKEND", "tpu");
    CHECK(load(nullptr, &m) == ERNIE_E_BACKEND);
    CHECK(contains(ernie_last_error(), "unknown backend 'tpu' (from ERNIE_BACKEND)"));
  }
}

TEST_CASE("backends: ernie backends prints the candidates, --json one document") {
  EnvVar dir("ERNIE_PLUGIN_DIR", nullptr);
  EnvVar backend("ERNIE_BACKEND", nullptr);
  test::CliRun j = test::run_cli("backends --json");
  REQUIRE_MESSAGE(j.code == 0, j.err);
  CHECK(j.err.empty());
  nlohmann::json doc = nlohmann::json::parse(j.out);  // the document alone
  REQUIRE(doc.is_array());
  const nlohmann::json* cpu = find(doc, "cpu");
  REQUIRE(cpu);
  CHECK((*cpu)["available"] == true);
  CHECK((*cpu)["selected_by_auto"] == true);
  const nlohmann::json* cuda = find(doc, "cuda");
  REQUIRE(cuda);
  CHECK((*cuda)["available"] == false);
#ifdef ERNIE_TEST_CUDA_PLUGIN
  // The CLI links the core statically from bin/: it finds the plugin in ../lib.
  CHECK_FALSE(contains((*cuda)["reason"].get<std::string>(), "plugin not found"));
#endif

  test::CliRun t = test::run_cli("backends");
  REQUIRE_MESSAGE(t.code == 0, t.err);
  CHECK(contains(t.out, "cpu    available"));
  CHECK(contains(t.out, "cuda   unavailable"));
  CHECK(contains(t.out, "reason  " + (*cuda)["reason"].get<std::string>()));
  CHECK(contains(t.out, "auto selects: cpu\n"));
  CHECK(test::run_cli("backends extra").code == 2);
}

TEST_CASE("backends: a broken plugin in ERNIE_PLUGIN_DIR never breaks the CPU path") {
  const std::string& model = test::packed_golden("tiny-moe-a");
  test::TempDir out;
  EnvVar backend("ERNIE_BACKEND", nullptr);
  for (const char* kind : {"no_entry", "bad_abi", "small_struct", "old_core"}) {
    CAPTURE(kind);
    EnvVar dir("ERNIE_PLUGIN_DIR", fake_dir(kind).c_str());
    test::CliRun j = test::run_cli("backends --json");
    REQUIRE_MESSAGE(j.code == 0, j.err);
    nlohmann::json doc = nlohmann::json::parse(j.out);
    const nlohmann::json* cuda = find(doc, "cuda");
    REQUIRE(cuda);
    CHECK((*cuda)["available"] == false);
    CHECK((*cuda)["path"] == fake_dir(kind) + "/libernie-cuda.so");
    CHECK((*find(doc, "cpu"))["selected_by_auto"] == true);
    test::CliRun l = test::run_cli("logits -m " + model + " --ids 1,5,17 -o " + out.file("l.f32"));
    CHECK_MESSAGE(l.code == 0, l.err);
  }
}

TEST_CASE("backends: auto falls back to cpu when the plugin it picks cannot prepare the model") {
  const std::string& model = test::packed_golden("tiny-moe-a");
  test::TempDir out;
  EnvVar dir("ERNIE_PLUGIN_DIR", fake_dir("usable").c_str());
  {
    EnvVar backend("ERNIE_BACKEND", nullptr);
    test::CliRun j = test::run_cli("backends --json");
    REQUIRE_MESSAGE(j.code == 0, j.err);
    nlohmann::json doc = nlohmann::json::parse(j.out);
    const nlohmann::json* cuda = find(doc, "cuda");
    REQUIRE(cuda);
    CHECK((*cuda)["available"] == true);
    CHECK((*cuda)["selected_by_auto"] == true);
    CHECK((*cuda)["devices"][0]["name"] == "Fake GPU");
    CHECK((*find(doc, "cpu"))["selected_by_auto"] == false);
    // The model still loads and runs, on the CPU.
    test::CliRun l = test::run_cli("logits -m " + model + " --ids 1,5,17 -o " + out.file("l.f32"));
    CHECK_MESSAGE(l.code == 0, l.err);
  }
  {
    EnvVar backend("ERNIE_BACKEND", "cuda");
    test::CliRun l = test::run_cli("logits -m " + model + " --ids 1,5,17 -o " + out.file("l.f32"));
    CHECK(l.code == 10 + ERNIE_E_BACKEND);
    CHECK_MESSAGE(contains(l.err, "fake plugin: prepare always fails"), l.err);
  }
}
