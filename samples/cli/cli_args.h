// Command-line parsing and error reporting shared by the `ernie` subcommands.
// Flags may come in any order; errors are one line on stderr and an exit
// code from 1 to 125 (docs/cli.md).
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "ernie.h"

namespace cli {

constexpr int kExitUsage = 2;
// Failures reported by the library exit with 10 + the ernie_status value.
constexpr int kExitStatusBase = 10;

// Thrown by subcommands; main() prints it and exits with `code`.
struct Failure : std::runtime_error {
  Failure(int code, const std::string& message) : std::runtime_error(message), code(code) {}
  int code;
};

[[noreturn]] void usage_error(const std::string& message);
// Throws Failure(10 + status, "<what>: <last error>") unless status is ERNIE_OK.
void check(ernie_status status, const char* what);

class Args {
 public:
  // `value_flags` take a value (e.g. "-m", "--ids"); `switches` do not.
  // A value flag named in `repeatable` may be given several times.
  Args(const std::vector<std::string>& argv, const std::vector<std::string>& value_flags,
       const std::vector<std::string>& switches, const std::vector<std::string>& repeatable = {});
  bool has(const std::string& flag) const { return values_.count(flag) != 0; }
  // The flag's value; usage error if it is missing and required.
  std::string get(const std::string& flag) const;
  std::string get_or(const std::string& flag, const std::string& fallback) const;
  long long get_int(const std::string& flag, long long fallback, long long lo, long long hi) const;
  double get_double(const std::string& flag, double fallback, double lo, double hi) const;
  std::vector<std::string> get_all(const std::string& flag) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> repeated_;
  std::vector<std::string> positional_;
};

// Subcommands: argv excludes the program and subcommand names.
int cmd_pack(const std::vector<std::string>& argv);
int cmd_info(const std::vector<std::string>& argv);
int cmd_tokenize(const std::vector<std::string>& argv);
int cmd_logits(const std::vector<std::string>& argv);
int cmd_run(const std::vector<std::string>& argv);
int cmd_chat(const std::vector<std::string>& argv);
int cmd_render(const std::vector<std::string>& argv);
int cmd_parse(const std::vector<std::string>& argv);
int cmd_backends(const std::vector<std::string>& argv);
// Developer subcommands (they also use the core's internals).
int cmd_synth(const std::vector<std::string>& argv);
int cmd_bench(const std::vector<std::string>& argv);

// Loads a model with the common flags (-m, --threads); exits on failure.
ernie_model* load_model(const Args& args);
// A whole file's contents; Failure on error.
std::string read_text_file(const std::string& path);
// JSON string literal of UTF-8 text (for --json outputs).
std::string json_string(const std::string& s);

}  // namespace cli
