#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_args.h"

namespace cli {

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Failure(kExitStatusBase + ERNIE_E_IO, "cannot read '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Prints the rendered prompt exactly: no added newline.
int cmd_render(const std::vector<std::string>& argv) {
  Args args(argv, {"-m", "--chat", "--format", "--threads"}, {});
  std::string conv = read_text_file(args.get("--chat"));
  ernie_model* model = load_model(args);
  char* text = nullptr;
  size_t len = 0;
  std::string format = args.get_or("--format", "auto");
  ernie_status st = ernie_chat_render_json(model, conv.c_str(), format.c_str(), &text, &len);
  ernie_model_free(model);
  check(st, "render");
  std::fwrite(text, 1, len, stdout);
  ernie_free(text);
  return 0;
}

}  // namespace cli
