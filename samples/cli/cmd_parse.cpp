// ernie parse: model output on stdin -> reasoning, content and tool calls as
// one JSON object on stdout.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "cli_args.h"

namespace cli {

int cmd_parse(const std::vector<std::string>& argv) {
  Args args(argv, {"-m", "--format", "--threads"}, {});
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  ernie_model* model = load_model(args);
  char* json = nullptr;
  size_t len = 0;
  std::string format = args.get_or("--format", "auto");
  ernie_status st = ernie_chat_parse(model, format.c_str(), input.data(), input.size(), &json, &len);
  ernie_model_free(model);
  check(st, "parse");
  std::fwrite(json, 1, len, stdout);
  std::fputc('\n', stdout);
  ernie_free(json);
  return 0;
}

}  // namespace cli
