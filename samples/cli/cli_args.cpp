#include "cli_args.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace cli {

void usage_error(const std::string& message) { throw Failure(kExitUsage, message); }

void check(ernie_status status, const char* what) {
  if (status == ERNIE_OK) return;
  std::string msg = ernie_last_error();
  if (msg.empty()) msg = ernie_status_string(status);
  throw Failure(kExitStatusBase + status, std::string(what) + ": " + msg);
}

Args::Args(const std::vector<std::string>& argv, const std::vector<std::string>& value_flags,
           const std::vector<std::string>& switches, const std::vector<std::string>& repeatable) {
  auto is = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (is(repeatable, a)) {
      if (i + 1 >= argv.size()) usage_error("flag " + a + " needs a value");
      repeated_[a].push_back(argv[++i]);
      values_[a] = repeated_[a].back();
    } else if (is(value_flags, a)) {
      if (i + 1 >= argv.size()) usage_error("flag " + a + " needs a value");
      if (values_.count(a)) usage_error("flag " + a + " is given twice");
      values_[a] = argv[++i];
    } else if (is(switches, a)) {
      values_[a] = "1";
    } else if (a.size() > 1 && a[0] == '-') {
      usage_error("unknown flag " + a);
    } else {
      positional_.push_back(a);
    }
  }
}

std::string Args::get(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) usage_error("missing required flag " + flag);
  return it->second;
}

std::string Args::get_or(const std::string& flag, const std::string& fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() ? fallback : it->second;
}

long long Args::get_int(const std::string& flag, long long fallback, long long lo, long long hi) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return fallback;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (errno || end == it->second.c_str() || *end || v < lo || v > hi) {
    usage_error(flag + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

double Args::get_double(const std::string& flag, double fallback, double lo, double hi) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return fallback;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (errno || end == it->second.c_str() || *end || !(v >= lo && v <= hi)) {
    usage_error(flag + " must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

std::vector<std::string> Args::get_all(const std::string& flag) const {
  auto it = repeated_.find(flag);
  return it == repeated_.end() ? std::vector<std::string>{} : it->second;
}

ernie_model* load_model(const Args& args) {
  ernie_model_params p;
  ernie_model_params_init(&p);
  p.n_threads = static_cast<int32_t>(args.get_int("--threads", 0, 0, 1024));
  std::string path = args.get("-m");
  ernie_model* model = nullptr;
  check(ernie_model_load(path.c_str(), &p, &model), "cannot load model");
  return model;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace cli
