#include <cstdio>

#include "cli_args.h"

namespace cli {
namespace {

int32_t print_progress(void* user_data, float progress) {
  auto* last = static_cast<int*>(user_data);
  int pct = static_cast<int>(progress * 100.0f);
  if (pct != *last) {
    std::fprintf(stderr, "\rpacking: %3d%%", pct);
    if (pct >= 100) std::fputc('\n', stderr);
    *last = pct;
  }
  return 0;
}

void print_log(void*, int32_t level, const char* message) {
  if (level <= ERNIE_LOG_WARN) std::fprintf(stderr, "%s\n", message);
}

}  // namespace

int cmd_pack(const std::vector<std::string>& argv) {
  Args args(argv, {"-o", "--type", "--quant", "--threads"}, {"--quiet"});
  if (args.positional().size() != 1) usage_error("pack takes one checkpoint directory: ernie pack <hf_dir> -o FILE");
  std::string out = args.get("-o");
  ernie_pack_params p;
  ernie_pack_params_init(&p);
  std::string type = args.get_or("--type", "auto");
  if (type == "auto") p.type = ERNIE_TYPE_AUTO;
  else if (type == "f32") p.type = ERNIE_TYPE_F32;
  else if (type == "f16") p.type = ERNIE_TYPE_F16;
  else if (type == "bf16") p.type = ERNIE_TYPE_BF16;
  else usage_error("--type must be f32, f16 or bf16 (got '" + type + "')");
  if (args.has("--quant")) {
    if (args.has("--type")) usage_error("--quant and --type exclude each other");
    const std::string recipe = args.get("--quant");
    if (recipe == "q8") p.type = ERNIE_TYPE_Q8;
    else if (recipe == "q6") p.type = ERNIE_TYPE_Q6;
    else if (recipe == "q4") p.type = ERNIE_TYPE_Q4;
    else if (recipe == "q2") p.type = ERNIE_TYPE_Q2;
    else usage_error("--quant must be q8, q6, q4 or q2 (got '" + recipe + "')");
  }
  p.n_threads = static_cast<int32_t>(args.get_int("--threads", 0, 0, 1024));
  int last = -1;
  if (!args.has("--quiet")) {
    p.progress = print_progress;
    p.progress_user_data = &last;
  }
  p.log = print_log;
  check(ernie_pack(args.positional()[0].c_str(), out.c_str(), &p), "pack failed");
  if (!args.has("--quiet")) std::fprintf(stderr, "wrote %s\n", out.c_str());
  return 0;
}

}  // namespace cli
