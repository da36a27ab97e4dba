// The `ernie` command-line tool end to end: pack, info, tokenize, logits, and
// the error contract (one line on stderr, exit code 1..125, never a signal).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "support/test_util.h"

namespace {

using Run = test::CliRun;

Run run(const std::string& args) { return test::run_cli(args); }

void check_error(const Run& r, const std::string& fragment) {
  CAPTURE(r.err);
  CHECK(r.code >= 1);
  CHECK(r.code <= 125);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find(fragment) != std::string::npos);
  CHECK(r.out.empty());
}

}  // namespace

TEST_CASE("cli: pack then logits reproduces the golden logits") {
  test::TempDir dir;
  const std::string model = dir.file("m.ernie");
  Run p = run("pack " + test::data_path("tiny-moe-b") + " -o " + model + " --quiet");
  REQUIRE_MESSAGE(p.code == 0, p.err);
  Run l = run("logits --ids 1,5,17,200,33 -o " + dir.file("l.f32") + " -m " + model);  // flags in any order
  REQUIRE_MESSAGE(l.code == 0, l.err);
  auto got = test::read_f32(dir.file("l.f32"));
  auto ref = test::read_f32(test::data_path("tiny-moe-b/golden/logits_1.f32"));
  REQUIRE(got.size() == ref.size());
  const size_t vocab = 800;
  for (size_t t = 0; t < 5; ++t) {
    float max_ref = 0, max_diff = 0;
    for (size_t v = 0; v < vocab; ++v) {
      max_ref = std::max(max_ref, std::fabs(ref[t * vocab + v]));
      max_diff = std::max(max_diff, std::fabs(got[t * vocab + v] - ref[t * vocab + v]));
    }
    CHECK(max_diff <= 1e-3f * max_ref);
  }
}

TEST_CASE("cli: info, tokenize and their --json forms") {
  const std::string& model = test::packed_golden("tiny-moe-a");
  Run i = run("info -m " + model);
  REQUIRE(i.code == 0);
  CHECK(i.out.find("Ernie4_5_MoeForCausalLM") != std::string::npos);
  Run ij = run("info --verify --json -m " + model);
  REQUIRE(ij.code == 0);
  CHECK(ij.out.front() == '{');
  CHECK(ij.out.find("\"verified\": true") != std::string::npos);
  CHECK(std::count(ij.out.begin(), ij.out.end(), '\n') == 1);
  Run t = run("tokenize -m " + model + " --text 'Hello world'");
  REQUIRE(t.code == 0);
  CHECK(t.out == "556 603 557 369 559 295 287 568 567\n");
  Run tj = run("tokenize --json -m " + model + " --text 'Hello world'");
  CHECK(tj.out == "[556, 603, 557, 369, 559, 295, 287, 568, 567]\n");
}

TEST_CASE("cli: errors are one line and an exit code, never a crash") {
  test::TempDir dir;
  check_error(run(""), "usage");
  check_error(run("frobnicate"), "unknown command");
  check_error(run("info"), "missing required flag -m");
  check_error(run("info -m /nonexistent.ernie"), "/nonexistent.ernie");
  check_error(run("info -m " + test::packed_golden("tiny-dense") + " --bogus"), "unknown flag --bogus");
  check_error(run("logits -m " + test::packed_golden("tiny-dense") + " --ids 1,x -o " + dir.file("o")), "--ids");
  check_error(run("logits -m " + test::packed_golden("tiny-dense") + " --ids 1,99999 -o " + dir.file("o")),
              "outside the vocabulary");
  check_error(run("pack " + dir.path().string() + " -o " + dir.file("x.ernie")), "config.json");
  check_error(run("pack " + test::data_path("tiny-dense") + " -o " + dir.file("x.ernie") + " --type q9"), "--type");
  test::write_file(dir.file("garbage.ernie"), std::string(300, 'x'));
  check_error(run("info -m " + dir.file("garbage.ernie")), "not an ernie packed model");
}

TEST_CASE("cli: --help, alone or after a command, prints the usage and exits 0") {
  for (const char* args : {"--help", "-h", "help", "bench --help", "run -h"}) {
    CAPTURE(args);
    const Run r = run(args);
    CHECK(r.code == 0);
    CHECK(r.out.find("usage: ernie <command> [flags]") != std::string::npos);
    CHECK(r.out.find("bench --attention") != std::string::npos);
    CHECK(r.err.empty());
  }
  // Anywhere else it is what it always was: a flag's value, or unknown.
  check_error(run("info -m x.ernie --help"), "unknown flag --help");
}

TEST_CASE("cli: run streams, --json stands alone, and the same seed repeats") {
  const std::string& model = test::packed_golden("tiny-moe-b");
  Run a = run("run -m " + model + " -p 'Hello there' -n 12 --seed 5 --json");
  REQUIRE_MESSAGE(a.code == 0, a.err);
  CHECK(a.out.front() == '{');
  CHECK(std::count(a.out.begin(), a.out.end(), '\n') == 1);
  auto j = nlohmann::json::parse(a.out);
  CHECK(j["n_generated_tokens"] == 12);
  CHECK(j["finish_reason"] == "length");
  Run b = run("run --seed 5 -n 12 --json -p 'Hello there' -m " + model);
  CHECK(b.out == a.out);
  Run greedy = run("run -m " + test::packed_golden("tiny-moe-a") + " -p Hi -n 4 --temp 0");
  CHECK(greedy.code == 0);
  Run raw = run("run -m " + model + " --raw -p '<|im_start|>user' -n 3 --json");
  CHECK(raw.code == 0);
  check_error(run("run -m " + model + " -p x --top-p 7"), "--top-p");
  check_error(run("run -m " + model), "missing required flag -p");
}

TEST_CASE("cli: chat reads turns from stdin, saves, resets and loads") {
  test::TempDir dir;
  const std::string model = test::packed_golden("tiny-moe-a");
  const std::string save = dir.file("conv.chat");
  test::write_file(dir.file("in"), "hello\n/save " + save + "\n/reset\n/load " + save + "\nagain\n/load " +
                                       dir.file("missing") + "\n/quit\n");
  std::string cmd = std::string(ERNIE_CLI_PATH) + " chat -m " + model + " -n 3 < " + dir.file("in") + " > " +
                    dir.file("out") + " 2> " + dir.file("err");
  CHECK(std::system(cmd.c_str()) == 0);
  std::string err = test::read_file(dir.file("err"));
  CHECK(err.find("saved") != std::string::npos);
  CHECK(err.find("loaded 2 messages") != std::string::npos);
  CHECK(err.find("cannot read") != std::string::npos);  // a bad /load is reported, the chat goes on
  CHECK(test::read_file(save).rfind("ERNIECHAT1\n", 0) == 0);
}

TEST_CASE("cli: Ctrl-C stops the answer in ernie chat, not the program") {
  test::TempDir dir;
  test::write_file(dir.file("in"), "tell me everything\n");
  test::write_file(dir.file("out"), "");
  const std::string model = test::packed_golden("tiny-moe-a");
  std::fflush(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen(dir.file("in").c_str(), "r", stdin);
    std::freopen(dir.file("out").c_str(), "w", stdout);
    std::freopen(dir.file("err").c_str(), "w", stderr);
    // A long answer: the context and max_tokens allow thousands of tokens.
    execl(ERNIE_CLI_PATH, "ernie", "chat", "-m", model.c_str(), "-n", "4000", "--ctx",
          "4096", "--threads", "1", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the answer streams, then interrupt.
  for (int i = 0; i < 200 && test::read_file(dir.file("out")).empty(); ++i) usleep(20000);
  usleep(50000);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(test::read_file(dir.file("err")).find("[stopped]") != std::string::npos);
}
