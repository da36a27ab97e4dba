// `ernie bench`: speed, memory and the machine's limits for one packed model,
// or (--quality) its distance from the checkpoint it came from. Developer
// command: timing goes through the C API like any application; the weight
// traffic and the probes use internals (dev/). How each figure is measured:
// docs/bench.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "api/handles.h"
#include "cli_args.h"
#include "dev/attention_probe.h"
#include "dev/core_errors.h"
#include "dev/probes.h"
#include "dev/gemm_compare.h"
#include "dev/quality.h"
#include "dev/weight_traffic.h"
#include "format/packed_file.h"
#include "model/config.h"
#include "platform/platform.h"

namespace cli {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Non-finite numbers (an infinite SNR) have no JSON form: null.
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

struct SpeedResult {
  double pp_tok_s = 0, tg_tok_s = 0, pp_seconds = 0, tg_seconds = 0;
  double tg_depth0_tok_s = 0;  // with -d: decode at depth 0, timed in turns with depth d
  double bandwidth_gb_s = 0;   // the read probe's best pass, one after each decode turn
  // The weights' own probe, best pass (cpu backend only; NAN elsewhere):
  // GB/s at which the threads stream what a token reads, from where it lies.
  double weights_bandwidth_gb_s = NAN;
  uint64_t peak_rss = 0, file_bytes = 0;
  ernie::MappedPages weight_pages;  // the mapped file's pages (none with --no-mmap)
  std::string backend;  // where the model ran ("cpu", "cuda")
};

// Deterministic prompt ids among the tokenizer's pieces, past the control ids.
std::vector<int32_t> prompt_ids(int64_t n, int32_t n_pieces) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  uint64_t state = 0x2545F4914F6CDD1Dull;
  const int32_t lo = std::min(3, n_pieces - 1);
  for (auto& id : ids) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    id = lo + static_cast<int32_t>((state >> 33) % static_cast<uint64_t>(n_pieces - lo));
  }
  return ids;
}

int32_t argmax_last(ernie_session* s) {
  const float* logits = nullptr;
  size_t n = 0;
  check(ernie_session_logits(s, -1, &logits, &n), "logits");
  return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

SpeedResult measure_speed(const std::string& path, int threads, int64_t p, int64_t n, int64_t depth, bool mmap,
                          uint64_t probe_bytes) {
  ernie_model_params mp;
  ernie_model_params_init(&mp);
  mp.n_threads = threads;
  mp.use_mmap = mmap ? 1 : 0;
  ernie_model* model = nullptr;
  check(ernie_model_load(path.c_str(), &mp, &model), "cannot load model");
  std::unique_ptr<ernie_model, void (*)(ernie_model*)> model_guard(model, ernie_model_free);
  ernie_model_info info{};
  info.struct_size = sizeof info;
  check(ernie_model_get_info(model, &info), "model info");
  const int64_t ctx = std::max(p, depth + n);
  if (ctx > info.max_context) {
    usage_error("-p or -d + -n (" + std::to_string(ctx) + " tokens) exceed the model's context of " +
                std::to_string(info.max_context));
  }
  ernie_session_params sp;
  ernie_session_params_init(&sp);
  sp.n_ctx = static_cast<int32_t>(ctx);
  sp.n_batch = static_cast<int32_t>(p);
  ernie_session* session = nullptr;
  check(ernie_session_create(model, &sp, &session), "cannot create session");
  std::unique_ptr<ernie_session, void (*)(ernie_session*)> session_guard(session, ernie_session_free);

  SpeedResult r;
  r.file_bytes = info.file_bytes;
  const char* backend = nullptr;
  check(ernie_model_backend(model, &backend), "model backend");
  r.backend = backend;
  const std::vector<int32_t> prompt = prompt_ids(std::max(p, depth), info.n_tokenizer_vocab);
  // Warm-up: verifying every tensor's checksum reads (faults in) all mapped
  // weights, so neither timing pays for the disk; a short eval warms the
  // session's threads and buffers.
  check(ernie_model_verify(model, nullptr, nullptr), "warm-up (tensor checksums)");
  check(ernie_session_eval(session, prompt.data(), static_cast<size_t>(std::min<int64_t>(p, 16)), 0), "eval");

  check(ernie_session_reset(session), "reset");
  auto start = Clock::now();
  check(ernie_session_eval(session, prompt.data(), static_cast<size_t>(p), 0), "eval");
  r.pp_seconds = seconds_since(start);

  // `count` single-token evals on `s` after whatever it holds, each fed the
  // previous argmax (`next`); seconds.
  const auto time_decode = [&](ernie_session* s, int32_t& next, int64_t count) {
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < count; ++i) {
      check(ernie_session_eval(s, &next, 1, 0), "eval");
      next = argmax_last(s);
    }
    return seconds_since(t0);
  };
  check(ernie_session_reset(session), "reset");
  int32_t next = prompt[0];
  // With -d: a second session decodes at depth 0, in turns with `session`.
  std::unique_ptr<ernie_session, void (*)(ernie_session*)> shallow(nullptr, ernie_session_free);
  int32_t next0 = prompt[0];
  if (depth > 0) {
    // The context the decoded tokens attend to: filled, not timed.
    check(ernie_session_eval(session, prompt.data(), static_cast<size_t>(depth), 0), "eval");
    next = argmax_last(session);
    ernie_session_params sp0 = sp;
    sp0.n_ctx = static_cast<int32_t>(n + 1);
    ernie_session* created = nullptr;
    check(ernie_session_create(model, &sp0, &created), "cannot create session");
    shallow.reset(created);
  }
  // The probe's buffer comes next and stays resident to the end, and what
  // decode adds (KV positions, the second session's first buffers) is also
  // still resident then: the model's peak is the larger of the mark now and
  // the final mark less the buffer (bench.md).
  const uint64_t rss_before_probe = ernie::peak_rss_bytes();
  auto probe = with_core_errors([&] { return std::make_unique<ernie::dev::ReadBandwidthProbe>(threads, probe_bytes); });
  // The weights' own probe reads the model's memory (the mapped page cache
  // or, with --no-mmap, its buffer): of no use where a GPU holds them.
  const bool probe_weights = r.backend == "cpu";
  ernie::dev::TokenReads reads;
  std::unique_ptr<ernie::dev::RangeReadProbe> weights_probe;
  if (probe_weights) {
    reads = with_core_errors([&] { return ernie::dev::token_read_ranges(model->impl->file(), model->impl->config()); });
    weights_probe = with_core_errors([&] { return std::make_unique<ernie::dev::RangeReadProbe>(threads); });
  }

  // Decode in turns, a probe pass after each: the machine's speed drifts
  // (a shared VM), and the roofline and depth ratio must compare figures
  // taken under the same conditions, not minutes apart.
  constexpr int64_t kTurns = 5;  // the "best of 5" probe passes
  double depth0_seconds = 0;
  for (int64_t turn = 0; turn < kTurns; ++turn) {
    const int64_t count = n * (turn + 1) / kTurns - n * turn / kTurns;
    if (shallow) depth0_seconds += time_decode(shallow.get(), next0, count);
    r.tg_seconds += time_decode(session, next, count);
    r.bandwidth_gb_s = std::max(r.bandwidth_gb_s, with_core_errors([&] { return probe->pass(); }));
    if (probe_weights) {
      // A token's expected read time: its whole tensors, and routed_share of
      // the time to stream every routed expert.
      const double t = weights_probe->seconds(reads.every_token) +
                       weights_probe->seconds(reads.routed) * reads.routed_share;
      r.weights_bandwidth_gb_s = std::fmax(r.weights_bandwidth_gb_s, reads.bytes() / t / 1e9);  // fmax skips the NAN start
    }
  }
  r.weight_pages = ernie::mapped_file_pages(path);
  r.pp_tok_s = static_cast<double>(p) / r.pp_seconds;
  r.tg_tok_s = static_cast<double>(n) / r.tg_seconds;
  if (shallow) r.tg_depth0_tok_s = static_cast<double>(n) / depth0_seconds;
  const uint64_t rss_end = ernie::peak_rss_bytes();
  r.peak_rss = std::max(rss_before_probe, rss_end > probe->bytes() ? rss_end - probe->bytes() : 0);
  return r;
}

int bench_speed(const Args& args, const std::string& path, int threads) {
  const int64_t p = args.get_int("-p", 128, 1, 1 << 20);
  const int64_t n = args.get_int("-n", 32, 1, 1 << 20);
  const int64_t depth = args.get_int("-d", 0, 0, 1 << 24);
  const uint64_t probe_bytes = static_cast<uint64_t>(args.get_int("--probe-mib", 1024, 16, 16384)) << 20;

  const ernie::dev::WeightTraffic traffic = with_core_errors([&] {
    auto file = ernie::PackedFile::open(path, true);
    const Json& meta = file->metadata();
    ERNIE_CHECK(meta.contains("config"), ERNIE_E_INVALID_MODEL, "packed model '%s': metadata has no config",
                path.c_str());
    const ernie::ModelConfig config = ernie::ModelConfig::from_json(meta["config"]);
    return ernie::dev::weight_bytes_per_token(*file, config);
  });
  const SpeedResult speed = measure_speed(path, threads, p, n, depth, !args.has("--no-mmap"), probe_bytes);
  const double bandwidth = speed.bandwidth_gb_s;
  const ernie::dev::ComputePeak peak = with_core_errors([&] { return ernie::dev::measure_compute_peak(threads); });
  const uint64_t bpt = traffic.total();
  const double roofline = speed.tg_tok_s * static_cast<double>(bpt) / (bandwidth * 1e9);
  const double weights_roofline = speed.tg_tok_s * static_cast<double>(bpt) / (speed.weights_bandwidth_gb_s * 1e9);
  // Reading weights in 4 KB pages costs decode (bench.md): how much of the
  // mapped model the OS gave in 2 MB pages.
  const ernie::MappedPages& wp = speed.weight_pages;
  const double huge_fraction =
      wp.resident_bytes > 0 ? static_cast<double>(wp.huge_bytes) / static_cast<double>(wp.resident_bytes) : NAN;

  if (args.has("--json")) {
    Json j;
    j["model"] = path;
    j["backend"] = speed.backend;
    j["threads"] = threads;
    j["prompt_tokens"] = p;
    j["gen_tokens"] = n;
    j["depth"] = depth;
    j["pp_tok_s"] = speed.pp_tok_s;
    j["tg_tok_s"] = speed.tg_tok_s;
    j["pp_seconds"] = speed.pp_seconds;
    j["tg_seconds"] = speed.tg_seconds;
    j["peak_rss_bytes"] = speed.peak_rss;
    j["file_bytes"] = speed.file_bytes;
    j["bandwidth_gb_s"] = bandwidth;
    j["bandwidth_probe_bytes"] = probe_bytes;
    j["f32_gflops"] = peak.f32_gflops;
    j["int8_gops"] = peak.int8_gops;
    j["isa"] = peak.isa;
    j["bytes_per_token"] = bpt;
    j["bytes_per_token_detail"] = {{"attention", traffic.attention},     {"dense_mlp", traffic.dense_mlp},
                                   {"moe_routed", traffic.moe_routed},   {"moe_shared", traffic.moe_shared},
                                   {"router", traffic.router},           {"norms", traffic.norms},
                                   {"output_head", traffic.output_head}, {"embedding_row", traffic.embedding_row}};
    j["roofline"] = roofline;
    j["weights_bandwidth_gb_s"] = number(speed.weights_bandwidth_gb_s);
    j["weights_roofline"] = number(weights_roofline);
    j["weights_huge_fraction"] = number(huge_fraction);
    if (depth > 0) {
      j["tg_depth0_tok_s"] = speed.tg_depth0_tok_s;
      j["depth_ratio"] = speed.tg_tok_s / speed.tg_depth0_tok_s;
    }
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("model             %s (%.3f GB)\n", path.c_str(), speed.file_bytes / 1e9);
  std::printf("backend           %s\n", speed.backend.c_str());
  std::printf("threads           %d\n", threads);
  std::printf("prefill           %10.2f tok/s  (%lld tokens in %.3f s)\n", speed.pp_tok_s, static_cast<long long>(p),
              speed.pp_seconds);
  std::printf("decode            %10.2f tok/s  (%lld tokens after %lld in %.3f s)\n", speed.tg_tok_s,
              static_cast<long long>(n), static_cast<long long>(depth), speed.tg_seconds);
  if (depth > 0) {
    std::printf("decode, depth 0   %10.2f tok/s  (same run; depth %lld is %.2fx that)\n", speed.tg_depth0_tok_s,
                static_cast<long long>(depth), speed.tg_tok_s / speed.tg_depth0_tok_s);
  }
  std::printf("peak RSS          %10.1f MiB\n", speed.peak_rss / 1048576.0);
  std::printf("weights / token   %10.1f MB\n", bpt / 1e6);
  std::printf("read bandwidth    %10.2f GB/s  (%llu MiB buffer, best of 5)\n", bandwidth,
              static_cast<unsigned long long>(probe_bytes >> 20));
  std::printf("f32 FMA peak      %10.1f GFLOP/s (%s)\n", peak.f32_gflops, peak.isa);
  std::printf("int8 dot peak     %10.1f GOP/s\n", peak.int8_gops);
  std::printf("roofline          %10.1f %%  (decode bytes/s over bandwidth)\n", roofline * 100);
  if (std::isfinite(weights_roofline)) {
    std::printf("weights' own read %10.2f GB/s  (what a token reads, where it lies, best of 5)\n",
                speed.weights_bandwidth_gb_s);
    std::printf("weights roofline  %10.1f %%  (decode bytes/s over that)\n", weights_roofline * 100);
  }
  if (std::isfinite(huge_fraction)) {
    std::printf("weights in 2 MB   %10.1f %%  (of the mapped model's resident bytes)\n", huge_fraction * 100);
  }
  return 0;
}

int bench_quality(const Args& args, const std::string& path, int threads) {
  const std::string ref = args.get("--quality");
  const ernie::dev::QualityReport q =
      with_core_errors([&] { return ernie::dev::measure_quality(path, ref, threads); });
  if (args.has("--json")) {
    Json tensors = Json::array();
    for (const auto& t : q.tensors) {
      tensors.push_back({{"name", t.name}, {"type", ernie::dtype_name(t.type)}, {"snr_db", number(t.snr_db)}});
    }
    Json j = {{"mean_kl", q.mean_kl},     {"top1", q.top1},
              {"max_abs_diff", q.max_abs_diff}, {"positions", q.positions},
              {"file_bytes", q.file_bytes}, {"tensors", std::move(tensors)}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("positions         %lld\n", static_cast<long long>(q.positions));
  std::printf("mean KL(ref||model) %.6f\n", q.mean_kl);
  std::printf("top-1 agreement   %.2f %%\n", q.top1 * 100);
  std::printf("max |dlogit|      %.6g\n", q.max_abs_diff);
  std::printf("file bytes        %llu\n", static_cast<unsigned long long>(q.file_bytes));
  std::printf("%-28s %-5s %s\n", "tensor", "type", "SNR dB");
  for (const auto& t : q.tensors) {
    if (std::isfinite(t.snr_db)) std::printf("%-28s %-5s %.2f\n", t.name.c_str(), ernie::dtype_name(t.type), t.snr_db);
    else std::printf("%-28s %-5s exact\n", t.name.c_str(), ernie::dtype_name(t.type));
  }
  return 0;
}

// --gemm: the model's batched products on this project's kernels and on oneDNN.
int bench_gemm(const Args& args, int threads) {
  const std::vector<ernie::dev::GemmCase> cases = with_core_errors([&] { return ernie::dev::compare_gemm(threads); });
  // Multiply-adds count 2 ops.
  auto gops = [](const ernie::dev::GemmCase& c, double ms) { return 2.0 * c.m * c.k * c.n / (ms * 1e6); };
  if (args.has("--json")) {
    Json out = Json::array();
    for (const auto& c : cases) {
      out.push_back({{"name", c.name},         {"type", c.type},          {"m", c.m},
                     {"k", c.k},               {"n", c.n},                {"ours_ms", c.ours_ms},
                     {"dnnl_f32_ms", c.dnnl_f32_ms}, {"dequant_ms", c.dequant_ms}, {"dnnl_s8_ms", c.dnnl_s8_ms}});
    }
    std::printf("%s\n", Json{{"threads", threads}, {"cases", std::move(out)}}.dump().c_str());
    return 0;
  }
  std::printf("%d threads; ms per product (GOPS), best of 5\n", threads);
  std::printf("%-28s %-4s %5s %6s %6s | %15s | %15s %10s | %15s\n", "product", "type", "M", "K", "N", "ours",
              "oneDNN f32", "+ to f32", "oneDNN s8");
  for (const auto& c : cases) {
    std::printf("%-28s %-4s %5lld %6lld %6lld | %6.2f (%6.0f) | %6.2f (%6.0f) %10.2f | %6.2f (%6.0f)\n",
                c.name.c_str(), c.type, c.m, c.k, c.n, c.ours_ms, gops(c, c.ours_ms), c.dnnl_f32_ms,
                gops(c, c.dnnl_f32_ms), c.dequant_ms, c.dnnl_s8_ms, gops(c, c.dnnl_s8_ms));
  }
  return 0;
}

// --attention: decode's attention alone over a DEPTH-position f16 cache.
int bench_attention(const Args& args, int threads) {
  const int64_t depth = args.get_int("-d", 4096, 0, 131072);  // the model's context
  const int tokens = static_cast<int>(args.get_int("-n", 20, 1, 10000));
  const ernie::dev::AttentionTiming a =
      with_core_errors([&] { return ernie::dev::time_decode_attention(threads, depth, tokens); });
  auto gb_s = [&](double ms) { return static_cast<double>(a.kv_bytes) / (ms * 1e6); };
  if (args.has("--json")) {
    std::printf("%s\n", Json{{"depth", a.depth},
                             {"layers", a.layers},
                             {"threads", threads},
                             {"isa", a.isa},
                             {"kv_bytes", a.kv_bytes},
                             {"back_to_back_ms", a.back_to_back_ms},
                             {"back_to_back_best_ms", a.back_to_back_best_ms},
                             {"between_reads_ms", a.between_reads_ms},
                             {"between_reads_best_ms", a.between_reads_best_ms},
                             {"between_bytes", a.between_bytes}}
                            .dump()
                            .c_str());
    return 0;
  }
  std::printf("decode attention at depth %lld: %lld layers of 20 query / 4 kv heads x 128 (21B-A3B), f16 cache of "
              "%.1f MB, %d threads, %s\n",
              static_cast<long long>(a.depth), static_cast<long long>(a.layers), a.kv_bytes / 1e6, threads, a.isa);
  std::printf("ms per token over %d tokens       median   best   (KV GB/s at median)\n", tokens);
  std::printf("layers back to back            %8.3f %7.3f   (%.1f)\n", a.back_to_back_ms, a.back_to_back_best_ms,
              gb_s(a.back_to_back_ms));
  std::printf("%3.0f MB read before each layer  %8.3f %7.3f   (%.1f)\n", a.between_bytes / 1048576.0,
              a.between_reads_ms, a.between_reads_best_ms, gb_s(a.between_reads_ms));
  return 0;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
  Args args(argv, {"-m", "-p", "-n", "-d", "-t", "--quality", "--probe-mib"}, {"--json", "--no-mmap", "--gemm", "--attention"});
  if (!args.positional().empty()) usage_error("bench takes no positional arguments: ernie bench -m FILE");
  const int64_t t = args.get_int("-t", 0, 0, 1024);
  const int threads = t > 0 ? static_cast<int>(t) : ernie::physical_core_count();
  if (args.has("--gemm")) {
    for (const char* f : {"-m", "-p", "-n", "-d", "--probe-mib", "--quality", "--no-mmap"}) {
      if (args.has(f)) usage_error(std::string(f) + " does not apply to --gemm");
    }
    return bench_gemm(args, threads);
  }
  if (args.has("--attention")) {
    for (const char* f : {"-m", "-p", "--probe-mib", "--quality", "--no-mmap"}) {
      if (args.has(f)) usage_error(std::string(f) + " does not apply to --attention");
    }
    return bench_attention(args, threads);
  }
  const std::string path = args.get("-m");
  if (args.has("--quality")) {
    for (const char* f : {"-p", "-n", "-d", "--probe-mib"}) {
      if (args.has(f)) usage_error(std::string(f) + " does not apply to --quality");
    }
    return bench_quality(args, path, threads);
  }
  return bench_speed(args, path, threads);
}

}  // namespace cli
