// Resource limits (ernie_model_params: max_file_bytes, max_context,
// session_memory_budget), each tested at and just past its boundary, and a
// real allocation failure: all give ERNIE_E_OUT_OF_MEMORY and leave the model
// usable.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <vector>
#include <filesystem>
#include <string>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ernie.h"
#include "support/test_util.h"

namespace {

ernie_model* load(const std::string& path, void (*adjust)(ernie_model_params*, uint64_t), uint64_t value,
                  ernie_status* status) {
  ernie_model_params p;
  ernie_model_params_init(&p);
  p.n_threads = 1;
  adjust(&p, value);
  ernie_model* m = nullptr;
  *status = ernie_model_load(path.c_str(), &p, &m);
  return m;
}

ernie_session* session(ernie_model* m, int32_t n_ctx, ernie_status* status) {
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = n_ctx;
  sp.n_threads = 1;
  ernie_session* s = nullptr;
  *status = ernie_session_create(m, &sp, &s);
  return s;
}

bool error_mentions(const char* word) { return std::strstr(ernie_last_error(), word) != nullptr; }

}  // namespace

TEST_CASE("limits: max_file_bytes admits the file at its size and refuses it one byte below") {
  const std::string& path = test::packed_golden("tiny-moe-a");
  const auto size = static_cast<uint64_t>(std::filesystem::file_size(path));
  for (int mmap : {1, 0}) {
    CAPTURE(mmap);
    auto set = [](ernie_model_params* p, uint64_t v) { p->max_file_bytes = v; };
    ernie_status st;
    ernie_model* m = load(path, set, size, &st);
    CHECK(st == ERNIE_OK);
    ernie_model_free(m);
    m = load(path, set, size - 1, &st);
    CHECK(st == ERNIE_E_OUT_OF_MEMORY);
    CHECK(m == nullptr);
    CHECK(error_mentions("max_file_bytes"));
  }
}

TEST_CASE("limits: max_context admits n_ctx at the limit, refuses one past it, and caps the default") {
  ernie_status st;
  ernie_model* m = load(test::packed_golden("tiny-moe-a"),
                        [](ernie_model_params* p, uint64_t v) { p->max_context = static_cast<int32_t>(v); }, 64, &st);
  REQUIRE(st == ERNIE_OK);
  ernie_session* s = session(m, 64, &st);
  CHECK(st == ERNIE_OK);
  ernie_session_free(s);
  s = session(m, 65, &st);
  CHECK(st == ERNIE_E_OUT_OF_MEMORY);
  CHECK(s == nullptr);
  CHECK(error_mentions("max_context"));

  // n_ctx 0 means min(model maximum, 4096), here capped at 64.
  s = session(m, 0, &st);
  REQUIRE(st == ERNIE_OK);
  std::vector<int32_t> tokens(64, 5);
  CHECK(ernie_session_eval(s, tokens.data(), 64, 0) == ERNIE_OK);
  CHECK(ernie_session_eval(s, tokens.data(), 1, 0) == ERNIE_E_CONTEXT_FULL);
  ernie_session_free(s);
  ernie_model_free(m);

  ernie_model_params p;
  ernie_model_params_init(&p);
  p.max_context = -1;
  CHECK(ernie_model_load(test::packed_golden("tiny-moe-a").c_str(), &p, &m) == ERNIE_E_INVALID_ARGUMENT);
}

TEST_CASE("limits: the session memory budget is shared by a model's sessions and returned when they are freed") {
  const std::string& path = test::packed_golden("tiny-moe-a");
  auto set = [](ernie_model_params* p, uint64_t v) { p->session_memory_budget = v; };
  ernie_status st;
  ernie_model* probe = load(path, set, 0, &st);
  REQUIRE(st == ERNIE_OK);
  uint64_t bytes = 0;
  REQUIRE(ernie_model_session_bytes(probe, 64, 512, &bytes) == ERNIE_OK);
  ernie_model_free(probe);

  SUBCASE("two sessions fit exactly, a third does not until one is freed") {
    ernie_model* m = load(path, set, 2 * bytes, &st);
    REQUIRE(st == ERNIE_OK);
    ernie_session* a = session(m, 64, &st);
    CHECK(st == ERNIE_OK);
    ernie_session* b = session(m, 64, &st);
    CHECK(st == ERNIE_OK);
    ernie_session* c = session(m, 64, &st);
    CHECK(st == ERNIE_E_OUT_OF_MEMORY);
    CHECK(c == nullptr);
    CHECK(error_mentions("session_memory_budget"));
    ernie_session_free(a);
    c = session(m, 64, &st);
    CHECK(st == ERNIE_OK);
    // The sessions that exist still work.
    const int32_t t[3] = {1, 5, 9};
    CHECK(ernie_session_eval(b, t, 3, 0) == ERNIE_OK);
    CHECK(ernie_session_eval(c, t, 3, 0) == ERNIE_OK);
    ernie_session_free(b);
    ernie_session_free(c);
    ernie_model_free(m);
  }

  SUBCASE("one byte short refuses the session; a smaller one still fits") {
    ernie_model* m = load(path, set, bytes - 1, &st);
    REQUIRE(st == ERNIE_OK);
    ernie_session* s = session(m, 64, &st);
    CHECK(st == ERNIE_E_OUT_OF_MEMORY);
    s = session(m, 32, &st);
    CHECK(st == ERNIE_OK);
    const int32_t t[2] = {1, 5};
    CHECK(ernie_session_eval(s, t, 2, 0) == ERNIE_OK);
    ernie_session_free(s);
    ernie_model_free(m);
  }

  SUBCASE("kept logits count: all-logits evals fit at the boundary, one row past it is refused") {
    ernie_model_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    ernie_model* m = load(path, set, 0, &st);
    REQUIRE(st == ERNIE_OK);
    REQUIRE(ernie_model_get_info(m, &info) == ERNIE_OK);
    ernie_model_free(m);
    const uint64_t row = static_cast<uint64_t>(info.vocab_size) * sizeof(float);
    m = load(path, set, bytes + 2 * row, &st);  // room for 3 rows of kept logits
    REQUIRE(st == ERNIE_OK);
    ernie_session* s = session(m, 64, &st);
    REQUIRE(st == ERNIE_OK);
    const int32_t t[4] = {1, 5, 9, 13};
    CHECK(ernie_session_eval(s, t, 3, ERNIE_EVAL_ALL_LOGITS) == ERNIE_OK);
    int64_t n_past = 0;
    ernie_session_n_past(s, &n_past);
    CHECK(n_past == 3);
    CHECK(ernie_session_eval(s, t, 4, ERNIE_EVAL_ALL_LOGITS) == ERNIE_E_OUT_OF_MEMORY);
    ernie_session_n_past(s, &n_past);
    CHECK(n_past == 3);  // unchanged
    const float* logits = nullptr;
    CHECK(ernie_session_logits(s, 0, &logits, nullptr) == ERNIE_OK);  // the previous eval's rows are intact
    CHECK(ernie_session_eval(s, t, 4, 0) == ERNIE_OK);  // one row always fits
    ernie_session_free(s);
    ernie_model_free(m);
  }
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ERNIE_TEST_NO_RLIMIT 1  // sanitizers reserve terabytes of address space
#endif

TEST_CASE("limits: a failed allocation is ERNIE_E_OUT_OF_MEMORY and the model stays usable") {
#ifdef ERNIE_TEST_NO_RLIMIT
  MESSAGE("skipped under a sanitizer: it cannot run with an address-space limit");
#else
  // tiny-moe-a with a 4M-token maximum context: a session of that size needs
  // gigabytes of KV cache, which a child process limited to +512 MB of
  // address space cannot allocate.
  test::TempDir dir;
  std::filesystem::path ck = dir.path() / "ck";
  std::filesystem::create_directory(ck);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json", "model.safetensors"}) {
    std::filesystem::copy_file(test::data_path("tiny-moe-a") + "/" + f, ck / f);
  }
  std::string config = test::read_file(test::data_path("tiny-moe-a") + "/config.json");
  const std::string key = "\"max_position_embeddings\":";
  size_t at = config.find(key);
  REQUIRE(at != std::string::npos);
  size_t end = config.find_first_of(",}", at);
  config.replace(at, end - at, key + " 4194304");
  test::write_file((ck / "config.json").string(), config);
  const std::string packed = dir.file("long.ernie");
  REQUIRE(ernie_pack(ck.string().c_str(), packed.c_str(), nullptr) == ERNIE_OK);

  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ernie_model* m = nullptr;
    ernie_model_params p;
    ernie_model_params_init(&p);
    p.n_threads = 1;
    if (ernie_model_load(packed.c_str(), &p, &m) != ERNIE_OK) _exit(10);
    {
      FILE* f = std::fopen("/proc/self/statm", "r");
      unsigned long pages = 0;
      if (!f || std::fscanf(f, "%lu", &pages) != 1) _exit(11);
      std::fclose(f);
      struct rlimit lim;
      lim.rlim_cur = lim.rlim_max = pages * static_cast<unsigned long>(sysconf(_SC_PAGESIZE)) + (512ul << 20);
      if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(12);
    }
    ernie_session_params sp;
    ernie_session_params_init(&sp);
    sp.n_ctx = 4194304;
    sp.n_threads = 1;
    ernie_session* s = nullptr;
    if (ernie_session_create(m, &sp, &s) != ERNIE_E_OUT_OF_MEMORY || s != nullptr) _exit(13);
    sp.n_ctx = 64;
    if (ernie_session_create(m, &sp, &s) != ERNIE_OK) _exit(14);
    const int32_t t[2] = {1, 5};
    if (ernie_session_eval(s, t, 2, 0) != ERNIE_OK) _exit(15);
    ernie_session_free(s);
    ernie_model_free(m);
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
#endif
}
