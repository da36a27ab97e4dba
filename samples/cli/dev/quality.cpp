#include "dev/quality.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "dev/parallel_tasks.h"
#include "ernie.h"
#include "format/packed_file.h"
#include "hf/checkpoint.h"
#include "platform/platform.h"
#include "util/error.h"
#include "util/json.h"

namespace ernie::dev {
namespace {

constexpr uint64_t kMaxCasesBytes = 64u << 20;
constexpr uint64_t kMaxLogitsValues = uint64_t{1} << 30;  // 4 GiB of f32 per case
constexpr uint64_t kChunkValues = uint64_t{1} << 20;

struct Case {
  std::vector<int32_t> ids;
  std::string logits_path;
};

std::vector<Case> read_cases(const std::string& ref_dir, int64_t vocab, int64_t max_ctx) {
  const std::string golden = path_join(ref_dir, "golden");
  const std::string path = path_join(golden, "cases.json");
  const Json doc = parse_json(read_small_file(path, kMaxCasesBytes), path.c_str());
  ERNIE_CHECK(doc.is_object() && doc.contains("cases") && doc["cases"].is_array() && !doc["cases"].empty(),
              ERNIE_E_INVALID_MODEL, "%s: no 'cases' list", path.c_str());
  std::vector<Case> out;
  for (const Json& c : doc["cases"]) {
    ERNIE_CHECK(c.is_object() && c.contains("ids") && c["ids"].is_array() && !c["ids"].empty() &&
                    c.contains("logits_file") && c["logits_file"].is_string() && c.contains("logits_shape") &&
                    c["logits_shape"].is_array() && c["logits_shape"].size() == 2,
                ERNIE_E_INVALID_MODEL, "%s: case %zu needs 'ids', 'logits_file' and a 2-d 'logits_shape'",
                path.c_str(), out.size());
    Case k;
    for (const Json& id : c["ids"]) {
      ERNIE_CHECK(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < vocab,
                  ERNIE_E_INVALID_MODEL, "%s: case %zu has a token id outside the model's vocabulary",
                  path.c_str(), out.size());
      k.ids.push_back(id.get<int32_t>());
    }
    const Json& shape = c["logits_shape"];
    ERNIE_CHECK(shape[0].is_number_integer() && shape[1].is_number_integer() &&
                    shape[0].get<int64_t>() == static_cast<int64_t>(k.ids.size()) && shape[1].get<int64_t>() == vocab,
                ERNIE_E_INVALID_MODEL, "%s: case %zu: logits_shape must be [%zu, %lld] (ids x model vocabulary)",
                path.c_str(), out.size(), k.ids.size(), static_cast<long long>(vocab));
    ERNIE_CHECK(static_cast<int64_t>(k.ids.size()) <= max_ctx, ERNIE_E_INVALID_MODEL,
                "%s: case %zu is longer than the model's context", path.c_str(), out.size());
    const std::string name = c["logits_file"].get<std::string>();
    ERNIE_CHECK(!name.empty() && name.find('/') == std::string::npos && name.find('\\') == std::string::npos,
                ERNIE_E_INVALID_MODEL, "%s: logits_file '%s' must be a file name in golden/", path.c_str(),
                name.c_str());
    k.logits_path = path_join(golden, name);
    out.push_back(std::move(k));
  }
  return out;
}

std::vector<float> read_logits(const std::string& path, uint64_t values) {
  ERNIE_CHECK(values <= kMaxLogitsValues, ERNIE_E_INVALID_MODEL, "%s: too many logits", path.c_str());
  File f(path, File::Mode::Read);
  ERNIE_CHECK(f.size() == values * 4, ERNIE_E_INVALID_MODEL, "%s has %llu bytes, expected %llu (float32)",
              path.c_str(), static_cast<unsigned long long>(f.size()), static_cast<unsigned long long>(values * 4));
  std::vector<float> v(values);
  f.read_at(0, v.data(), values * 4);  // little-endian hosts
  return v;
}

void api_check(ernie_status st, const char* what) {
  if (st != ERNIE_OK) ERNIE_FAIL(st, "%s: %s", what, ernie_last_error());
}

// log-softmax of one row, in double.
void log_softmax(const float* x, size_t n, std::vector<double>& out) {
  out.resize(n);
  double mx = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(x[i]));
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - mx);
  const double lse = mx + std::log(sum);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<double>(x[i]) - lse;
}

void compare_logits(const std::string& model_path, const std::string& ref_dir, int n_threads, QualityReport& r) {
  ernie_model_params mp;
  ernie_model_params_init(&mp);
  mp.n_threads = n_threads;
  ernie_model* model = nullptr;
  api_check(ernie_model_load(model_path.c_str(), &mp, &model), "cannot load model");
  std::unique_ptr<ernie_model, void (*)(ernie_model*)> model_guard(model, ernie_model_free);
  ernie_model_info info{};
  info.struct_size = sizeof info;
  api_check(ernie_model_get_info(model, &info), "model info");
  r.file_bytes = info.file_bytes;
  const std::vector<Case> cases = read_cases(ref_dir, info.vocab_size, info.max_context);
  size_t longest = 0;
  for (const Case& c : cases) longest = std::max(longest, c.ids.size());

  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = static_cast<int32_t>(longest);
  sp.n_batch = static_cast<int32_t>(longest);
  ernie_session* session = nullptr;
  api_check(ernie_session_create(model, &sp, &session), "cannot create session");
  std::unique_ptr<ernie_session, void (*)(ernie_session*)> session_guard(session, ernie_session_free);

  const size_t vocab = static_cast<size_t>(info.vocab_size);
  double kl_sum = 0;
  int64_t agree = 0;
  std::vector<double> lp_ref, lp_model;
  for (const Case& c : cases) {
    const std::vector<float> ref = read_logits(c.logits_path, c.ids.size() * vocab);
    api_check(ernie_session_reset(session), "reset");
    api_check(ernie_session_eval(session, c.ids.data(), c.ids.size(), ERNIE_EVAL_ALL_LOGITS), "eval");
    for (size_t t = 0; t < c.ids.size(); ++t) {
      const float* got = nullptr;
      size_t n = 0;
      api_check(ernie_session_logits(session, static_cast<int64_t>(t), &got, &n), "logits");
      const float* want = ref.data() + t * vocab;
      log_softmax(want, vocab, lp_ref);
      log_softmax(got, vocab, lp_model);
      double kl = 0;
      for (size_t v = 0; v < vocab; ++v) {
        kl += std::exp(lp_ref[v]) * (lp_ref[v] - lp_model[v]);
        r.max_abs_diff = std::max(r.max_abs_diff, std::fabs(static_cast<double>(got[v]) - want[v]));
      }
      kl_sum += kl;
      agree += std::max_element(got, got + vocab) - got == std::max_element(want, want + vocab) - want;
      ++r.positions;
    }
  }
  r.mean_kl = kl_sum / static_cast<double>(r.positions);
  r.top1 = static_cast<double>(agree) / static_cast<double>(r.positions);
}

// Fills ref[0, n) with elements [first, first + n) of the checkpoint tensor.
void read_reference(const HfCheckpoint& ck, const CanonicalTensor& t, uint64_t first, size_t n,
                    std::vector<uint8_t>& raw, float* ref) {
  std::fill(ref, ref + n, 0.0f);  // an absent router bias is zeros
  const uint64_t end = first + n;
  for (const SourcePiece& p : t.pieces) {
    const uint64_t lo = std::max(first, p.dst_element), hi = std::min(end, p.dst_element + p.elements);
    if (lo >= hi) continue;
    const uint64_t width = dtype_row_bytes(p.dtype, 1);
    raw.resize((hi - lo) * width);
    ck.shards[p.shard].read(p.offset + (lo - p.dst_element) * width, raw.data(), raw.size());
    convert_to_f32(p.dtype, raw.data(), ref + (lo - first), hi - lo);
  }
}

void compare_tensors(const std::string& model_path, const std::string& ref_dir, int n_threads, QualityReport& r) {
  const HfCheckpoint ck = open_hf_checkpoint(ref_dir);
  const auto file = PackedFile::open(model_path, true);
  r.tensors.resize(ck.tensors.size());
  ThreadPool pool(n_threads > 0 ? n_threads : physical_core_count());
  run_tasks(pool, static_cast<int64_t>(ck.tensors.size()), [&](int64_t task, int) {
    const CanonicalTensor& t = ck.tensors[static_cast<size_t>(task)];
    const TensorInfo* packed = file->find(t.spec.name);
    ERNIE_CHECK(packed != nullptr, ERNIE_E_INVALID_MODEL, "packed model has no tensor '%s'", t.spec.name.c_str());
    const uint64_t cols = static_cast<uint64_t>(t.spec.shape.back());
    const uint64_t row_bytes = dtype_row_bytes(packed->type, cols);
    ERNIE_CHECK(row_bytes > 0 && packed->size == row_bytes * (t.elements() / cols), ERNIE_E_INVALID_MODEL,
                "packed tensor '%s' does not have the checkpoint's shape", t.spec.name.c_str());
    const uint64_t n_rows = t.elements() / cols;
    const uint64_t group = dtype_row_group(packed->type);  // q4x8 converts 8 rows at a time
    const uint64_t rows_per_chunk = std::min(n_rows, std::max<uint64_t>(1, kChunkValues / cols / group) * group);
    std::vector<float> ref(rows_per_chunk * cols), got(rows_per_chunk * cols);
    std::vector<uint8_t> raw;
    const auto* data = static_cast<const uint8_t*>(file->data(*packed));
    double signal = 0, noise = 0;
    for (uint64_t row = 0; row < n_rows; row += rows_per_chunk) {
      const uint64_t rows = std::min(rows_per_chunk, n_rows - row);
      const size_t n = static_cast<size_t>(rows * cols);
      read_reference(ck, t, row * cols, n, raw, ref.data());
      for (uint64_t g = 0; g < rows; g += group) {
        convert_to_f32(packed->type, data + (row + g) * row_bytes, got.data() + g * cols, group * cols);
      }
      for (size_t i = 0; i < n; ++i) {
        const double a = ref[i], d = a - got[i];
        signal += a * a;
        noise += d * d;
      }
    }
    TensorSnr& s = r.tensors[static_cast<size_t>(task)];
    s.name = t.spec.name;
    s.type = packed->type;
    s.snr_db = noise == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(signal / noise);
  });
}

}  // namespace

QualityReport measure_quality(const std::string& model_path, const std::string& ref_dir, int n_threads) {
  QualityReport r;
  compare_logits(model_path, ref_dir, n_threads, r);
  compare_tensors(model_path, ref_dir, n_threads, r);
  return r;
}

}  // namespace ernie::dev
