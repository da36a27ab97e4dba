#include <cstdio>
#include <vector>

#include "cli_args.h"

namespace cli {

int cmd_tokenize(const std::vector<std::string>& argv) {
  Args args(argv, {"-m", "--text", "--threads"}, {"--no-parse-special", "--json"});
  std::string text = args.get("--text");
  ernie_model* model = load_model(args);
  uint32_t flags = args.has("--no-parse-special") ? 0u : ERNIE_TOKENIZE_PARSE_SPECIAL;
  size_t n = 0;
  ernie_status st = ernie_tokenize(model, text.data(), text.size(), flags, nullptr, 0, &n);
  std::vector<int32_t> ids(n);
  if (st == ERNIE_E_BUFFER_TOO_SMALL) st = ernie_tokenize(model, text.data(), text.size(), flags, ids.data(), n, &n);
  ernie_model_free(model);
  check(st, "tokenize");
  std::string line = args.has("--json") ? "[" : "";
  for (size_t i = 0; i < n; ++i) {
    if (i) line += args.has("--json") ? ", " : " ";
    line += std::to_string(ids[i]);
  }
  if (args.has("--json")) line += "]";
  std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace cli
