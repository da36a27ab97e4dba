#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cli_args.h"

namespace cli {
namespace {

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    errno = 0;
    char* end = nullptr;
    long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || errno || *end || v < 0 || v > 0x7fffffff) {
      usage_error("--ids must be comma-separated non-negative integers (bad item '" + item + "')");
    }
    ids.push_back(static_cast<int32_t>(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return ids;
}

}  // namespace

int cmd_logits(const std::vector<std::string>& argv) {
  Args args(argv, {"-m", "--ids", "-o", "--threads", "--batch"}, {});
  std::vector<int32_t> ids = parse_ids(args.get("--ids"));
  std::string out_path = args.get("-o");
  ernie_model* model = load_model(args);
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = static_cast<int32_t>(ids.size());
  sp.n_batch = static_cast<int32_t>(args.get_int("--batch", 512, 1, 65536));
  ernie_session* session = nullptr;
  ernie_status st = ernie_session_create(model, &sp, &session);
  ernie_model_free(model);  // the session keeps the model alive
  check(st, "cannot create session");
  std::vector<float> all;
  try {
    check(ernie_session_eval(session, ids.data(), ids.size(), ERNIE_EVAL_ALL_LOGITS), "eval");
    for (size_t t = 0; t < ids.size(); ++t) {
      const float* row = nullptr;
      size_t vocab = 0;
      check(ernie_session_logits(session, static_cast<int64_t>(t), &row, &vocab), "logits");
      all.insert(all.end(), row, row + vocab);
    }
  } catch (...) {
    ernie_session_free(session);
    throw;
  }
  ernie_session_free(session);
  // Row-major [T, vocab] float32 little-endian (the host order on x86/ARM).
  FILE* f = std::fopen(out_path.c_str(), "wb");
  if (!f) throw Failure(kExitStatusBase + ERNIE_E_IO, "cannot write '" + out_path + "': " + std::strerror(errno));
  size_t written = std::fwrite(all.data(), sizeof(float), all.size(), f);
  if (std::fclose(f) != 0 || written != all.size()) {
    throw Failure(kExitStatusBase + ERNIE_E_IO, "cannot write '" + out_path + "': " + std::strerror(errno));
  }
  return 0;
}

}  // namespace cli
