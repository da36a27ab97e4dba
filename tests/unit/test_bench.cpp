// `ernie bench`: the --json report has every figure with sane values, the
// weight traffic per token matches a count by hand, and --quality of an
// unquantized pack against its own checkpoint is exact. Speeds are never
// asserted (shared CI machines).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ernie.h"
#include "support/test_util.h"

namespace {

nlohmann::json run_json(const std::string& args) {
  test::CliRun r = test::run_cli(args);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_SUITE("bench") {
  TEST_CASE("bench: --json on the tiny model has every key with sane values") {
    const std::string& model = test::packed_golden("tiny-moe-b");
    const nlohmann::json j = run_json("bench -m " + model + " -p 16 -n 4 -d 8 -t 1 --probe-mib 32 --json");
    for (const char* key : {"pp_tok_s", "tg_tok_s", "peak_rss_bytes", "bandwidth_gb_s", "bytes_per_token",
                            "roofline", "f32_gflops", "int8_gops", "file_bytes"}) {
      CAPTURE(key);
      REQUIRE(j.contains(key));
      CHECK(j[key].get<double>() > 0);
    }
    CHECK(j["threads"] == 1);
    CHECK(j["prompt_tokens"] == 16);
    CHECK(j["gen_tokens"] == 4);
    CHECK(j["depth"] == 8);
    // With -d, decode at depth 0 in the same run and the ratio of the two.
    CHECK(j["tg_depth0_tok_s"].get<double>() > 0);
    CHECK(j["depth_ratio"].get<double>() == doctest::Approx(j["tg_tok_s"].get<double>() / j["tg_depth0_tok_s"].get<double>()));
    CHECK(j["isa"].is_string());
    // A model this small decodes from cache, so it may beat the DRAM-bound
    // roofline somewhat, never by much: per-token overheads dominate.
    CHECK(j["roofline"].get<double>() < 2.5);
    // The weights' own read probe (cpu backend): what a token reads, where
    // it lies; the second roofline is decode against it.
    REQUIRE(j["weights_bandwidth_gb_s"].is_number());
    CHECK(j["weights_bandwidth_gb_s"].get<double>() > 0);
    CHECK(j["weights_roofline"].get<double>() ==
          doctest::Approx(j["tg_tok_s"].get<double>() * j["bytes_per_token"].get<double>() /
                          (j["weights_bandwidth_gb_s"].get<double>() * 1e9)));
    CHECK(j["peak_rss_bytes"].get<uint64_t>() > j["file_bytes"].get<uint64_t>() / 2);
    // Mapped (the default): the share of the model's pages the OS gave in 2 MB.
    REQUIRE(j["weights_huge_fraction"].is_number());
    CHECK(j["weights_huge_fraction"].get<double>() >= 0);
    CHECK(j["weights_huge_fraction"].get<double>() <= 1);
  }

  TEST_CASE("bench: --no-mmap probes the weights in the model's own buffer") {
    const nlohmann::json j = run_json("bench -m " + test::packed_golden("tiny-moe-b") +
                                      " -p 4 -n 2 -t 2 --probe-mib 16 --no-mmap --json");
    CHECK(j["weights_huge_fraction"].is_null());  // nothing mapped
    REQUIRE(j["weights_bandwidth_gb_s"].is_number());
    CHECK(j["weights_bandwidth_gb_s"].get<double>() > 0);
    CHECK(j["weights_roofline"].get<double>() > 0);
  }

  TEST_CASE("bench: --gemm compares every prefill product with oneDNN, or says it cannot") {
    // The probe checks itself that both engines computed the same product.
    test::CliRun r = test::run_cli("bench --gemm -t 2 --json");
    if (r.code != 0) {  // a build without libdnnl-dev
      CHECK(r.code == 10 + ERNIE_E_UNSUPPORTED);
      CHECK(r.err.find("without oneDNN") != std::string::npos);
      return;
    }
    const nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["threads"] == 2);
    REQUIRE(j["cases"].size() == 8);
    for (const auto& c : j["cases"]) {
      CAPTURE(c.dump());
      for (const char* key : {"ours_ms", "dnnl_f32_ms", "dequant_ms", "dnnl_s8_ms"}) CHECK(c[key].get<double>() > 0);
      for (const char* key : {"m", "k", "n"}) CHECK(c[key].get<int64_t>() > 0);
    }
    CHECK(test::run_cli("bench --gemm -m x.ernie").code == 2);  // a model does not apply
  }

  TEST_CASE("bench: --attention times decode's attention alone, both ways") {
    const nlohmann::json j = run_json("bench --attention -d 300 -n 2 -t 2 --json");
    CHECK(j["depth"] == 300);
    CHECK(j["layers"] == 28);
    CHECK(j["threads"] == 2);
    CHECK(j["kv_bytes"].get<uint64_t>() == 2ull * 28 * 301 * 4 * 128 * 2);  // K and V, f16, 301 positions
    CHECK(j["between_bytes"].get<uint64_t>() == 72ull << 20);
    for (const char* key : {"back_to_back_ms", "back_to_back_best_ms", "between_reads_ms", "between_reads_best_ms"}) {
      CAPTURE(key);
      CHECK(j[key].get<double>() > 0);
    }
    CHECK(j["back_to_back_best_ms"].get<double>() <= j["back_to_back_ms"].get<double>());
    CHECK(test::run_cli("bench --attention -m x.ernie").code == 2);  // a model does not apply
    CHECK(test::run_cli("bench --attention -d -1").code == 2);
    CHECK(test::run_cli("bench --attention -d 131073").code == 2);  // beyond the model's context
    CHECK(test::run_cli("bench --attention -n 0").code == 2);
  }

  TEST_CASE("bench: bytes per token of tiny-moe-b, counted by hand") {
    // tiny-moe-b packed as-is: bf16 weights and norms, f32 router. H 96, 4
    // layers (0 dense, 1-3 MoE), q 4x32, kv 1x32, I 224, 16 experts of 40,
    // top-4, 2 shared (80 wide), untied head, vocab 800.
    const uint64_t H = 96, bf = 2, f32 = 4;
    const uint64_t attention = 4 * (128 * H + 32 * H + 32 * H + H * 128) * bf;
    const uint64_t norms = (4 * 2 * H + H) * bf;
    const uint64_t dense = 3 * 224 * H * bf;
    const uint64_t routed = 3 * (3 * 16 * 40 * H * bf) * 4 / 16;
    const uint64_t shared = 3 * (3 * 80 * H * bf);
    const uint64_t router = 3 * (16 * H + 16) * f32;
    const uint64_t head = 800 * H * bf, embedding_row = H * bf;
    const nlohmann::json j =
        run_json("bench -m " + test::packed_golden("tiny-moe-b") + " -p 1 -n 1 -t 1 --probe-mib 16 --json");
    const nlohmann::json& d = j["bytes_per_token_detail"];
    CHECK_FALSE(j.contains("depth_ratio"));  // only with -d
    CHECK(d["attention"] == attention);
    CHECK(d["norms"] == norms);
    CHECK(d["dense_mlp"] == dense);
    CHECK(d["moe_routed"] == routed);
    CHECK(d["moe_shared"] == shared);
    CHECK(d["router"] == router);
    CHECK(d["output_head"] == head);
    CHECK(d["embedding_row"] == embedding_row);
    CHECK(j["bytes_per_token"] == attention + norms + dense + routed + shared + router + head + embedding_row);
  }

  TEST_CASE("bench: --quality of tiny-moe-b packed as bf16 against its checkpoint") {
    const nlohmann::json j = run_json("bench -m " + test::packed_golden("tiny-moe-b") + " --quality " +
                                      test::data_path("tiny-moe-b") + " --json");
    CHECK(j["mean_kl"].get<double>() >= 0);
    CHECK(j["mean_kl"].get<double>() < 1e-5);
    CHECK(j["top1"].get<double>() == 1.0);
    CHECK(j["max_abs_diff"].get<double>() < 1e-2);
    CHECK(j["positions"].get<int>() > 10);
    CHECK(j["file_bytes"].get<uint64_t>() > 0);
    REQUIRE(j["tensors"].size() > 40);
    for (const auto& t : j["tensors"]) {
      CAPTURE(t.dump());
      CHECK(t["snr_db"].is_null());  // the same bytes: no error at all
    }
    test::CliRun text = test::run_cli("bench -m " + test::packed_golden("tiny-moe-b") + " --quality " +
                                      test::data_path("tiny-moe-b"));
    CHECK(text.code == 0);
    CHECK(text.out.find("top-1 agreement   100.00 %") != std::string::npos);
  }

  TEST_CASE("bench: bad flags and files") {
    const std::string& model = test::packed_golden("tiny-moe-b");
    CHECK(test::run_cli("bench").code == 2);
    CHECK(test::run_cli("bench -m " + model + " -p 0").code == 2);
    CHECK(test::run_cli("bench -m " + model + " --bogus").code == 2);
    CHECK(test::run_cli("bench -m " + model + " -p 8 --quality " + test::data_path("tiny-moe-b")).code == 2);
    CHECK(test::run_cli("bench -m " + model + " -d 5000 -n 1").code == 2);  // past the 4096-token context
    CHECK(test::run_cli("bench -m /nonexistent.ernie --json").code == 10 + ERNIE_E_IO);
    test::CliRun r = test::run_cli("bench -m " + model + " --quality " + test::data_path("tiny-moe-a"));
    CHECK(r.code == 10 + ERNIE_E_INVALID_MODEL);  // another model's golden logits
  }
}
