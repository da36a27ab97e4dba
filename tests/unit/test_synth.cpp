// `ernie synth`: synthetic models with real shapes and random weights load,
// generate, are reproducible, have sane magnitudes, and the Hugging Face
// form packs to the same tensors as the packed form.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ernie.h"
#include "format/packed_file.h"
#include "quant/quantize.h"
#include "support/test_util.h"

namespace {

std::string synth(const test::TempDir& dir, const std::string& name, const std::string& flags) {
  const std::string out = dir.file(name);
  test::CliRun r = test::run_cli("synth --preset tiny -o " + out + " --quiet " + flags);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return out;
}

// Loads through the C API (the synth's provenance recorded in the metadata), checks the shapes, evaluates a prompt and greedy
// decodes a few tokens; every logit must be finite with a sane spread.
void check_generates(const std::string& path, bool synthetic_provenance = true) {
  ernie_model* model = nullptr;
  REQUIRE_MESSAGE(ernie_model_load(path.c_str(), nullptr, &model) == ERNIE_OK, ernie_last_error());
  ernie_model_info info{};
  info.struct_size = sizeof info;
  REQUIRE(ernie_model_get_info(model, &info) == ERNIE_OK);
  CHECK(info.arch == ERNIE_ARCH_MOE);
  CHECK(info.n_layers == 3);
  CHECK(info.n_tokenizer_vocab == info.vocab_size);
  const char* meta = nullptr;
  REQUIRE(ernie_model_metadata(model, &meta) == ERNIE_OK);
  if (synthetic_provenance) CHECK(nlohmann::json::parse(meta)["provenance"]["synthetic"] == true);

  int32_t ids[16];
  size_t n_ids = 0;
  REQUIRE(ernie_tokenize(model, "hello world", 11, 0, ids, 16, &n_ids) == ERNIE_OK);
  CHECK(n_ids >= 2);
  ernie_session* s = nullptr;
  REQUIRE(ernie_session_create(model, nullptr, &s) == ERNIE_OK);
  REQUIRE(ernie_session_eval(s, ids, n_ids, 0) == ERNIE_OK);
  for (int step = 0; step < 8; ++step) {
    const float* logits = nullptr;
    size_t vocab = 0;
    REQUIRE(ernie_session_logits(s, -1, &logits, &vocab) == ERNIE_OK);
    double sum = 0, sum2 = 0;
    int32_t best = 0;
    for (size_t v = 0; v < vocab; ++v) {
      REQUIRE(std::isfinite(logits[v]));
      sum += logits[v];
      sum2 += double(logits[v]) * logits[v];
      if (logits[v] > logits[best]) best = static_cast<int32_t>(v);
    }
    const double sd = std::sqrt(sum2 / vocab - (sum / vocab) * (sum / vocab));
    CHECK(sd > 0.05);  // neither vanished ...
    CHECK(sd < 50.0);  // ... nor exploded
    REQUIRE(ernie_session_eval(s, &best, 1, 0) == ERNIE_OK);
  }
  ernie_session_free(s);
  ernie_model_free(model);
}

}  // namespace

TEST_SUITE("synth") {
  TEST_CASE("synth: the tiny preset loads through the C API and generates, bf16 and quantized") {
    test::TempDir dir;
    const std::string bf16 = synth(dir, "bf16.ernie", "--quant bf16");
    check_generates(bf16);
    test::CliRun run = test::run_cli("run -m " + bf16 + " -p hi -n 8 --json");
    REQUIRE_MESSAGE(run.code == 0, run.err);
    CHECK(nlohmann::json::parse(run.out)["n_generated_tokens"].get<int>() >= 1);
    for (const std::string q : {"q8", "q6", "q4", "q2"}) {
      CAPTURE(q);
      check_generates(synth(dir, q + ".ernie", "--quant " + q));
    }
  }

  TEST_CASE("synth: the same seed gives the same bytes on 1 or 2 threads, another seed differs") {
    test::TempDir dir;
    const std::string one = test::read_file(synth(dir, "a.ernie", "--quant q4 --seed 7 --threads 1"));
    const std::string two = test::read_file(synth(dir, "b.ernie", "--quant q4 --seed 7 --threads 2"));
    const std::string other = test::read_file(synth(dir, "c.ernie", "--quant q4 --seed 8 --threads 2"));
    CHECK(one.size() == two.size());
    CHECK(one == two);
    CHECK(one != other);
  }

  TEST_CASE("synth: quantized blocks decode to weights of the intended spread") {
    test::TempDir dir;
    for (const std::string q : {"q8", "q6", "q4", "q2"}) {
      CAPTURE(q);
      auto file = ernie::PackedFile::open(synth(dir, q + ".ernie", "--quant " + q), true);
      int quantized = 0;
      for (const ernie::TensorInfo& t : file->tensors()) {
        if (!ernie::dtype_is_quantized(t.type)) continue;
        ++quantized;
        CAPTURE(t.name);
        const uint64_t per = ernie::dtype_block_values(t.type);
        const uint64_t n = t.size / ernie::dtype_block_bytes(t.type) * per;
        std::vector<float> w(n);
        ernie::quant::dequantize_row(t.type, file->data(t), w.data(), static_cast<int64_t>(n));
        double sum = 0, sum2 = 0;
        for (float v : w) sum += v, sum2 += double(v) * v;
        const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
        // No bias beyond sampling noise: a mean shared by every weight grows
        // through a deep network (this catches the -1/2 of q6 codes).
        CHECK(std::fabs(mean) < 5 * sd / std::sqrt(double(n)));
        CHECK(sd > 0.015);
        CHECK(sd < 0.025);
      }
      CHECK(quantized > 0);
    }
  }

  TEST_CASE("synth: the Hugging Face form packs with ernie pack to the packed form's tensors") {
    test::TempDir dir;
    const std::string packed = synth(dir, "direct.ernie", "--quant bf16 --seed 3");
    test::CliRun hf = test::run_cli("synth --preset tiny --format hf --seed 3 --quiet -o " + dir.file("hf"));
    REQUIRE_MESSAGE(hf.code == 0, hf.err);
    for (const char* f : {"config.json", "tokenizer.model", "tokenizer_config.json", "model.safetensors.index.json",
                          "model-00001-of-00001.safetensors"}) {
      CHECK(std::filesystem::exists(dir.file("hf/") + f));
    }
    test::CliRun pack = test::run_cli("pack " + dir.file("hf") + " -o " + dir.file("from_hf.ernie") + " --quiet");
    REQUIRE_MESSAGE(pack.code == 0, pack.err);
    check_generates(dir.file("from_hf.ernie"), false);
    auto a = ernie::PackedFile::open(packed, true);
    auto b = ernie::PackedFile::open(dir.file("from_hf.ernie"), true);
    REQUIRE(a->tensors().size() == b->tensors().size());
    for (size_t i = 0; i < a->tensors().size(); ++i) {
      const auto& x = a->tensors()[i];
      const auto& y = b->tensors()[i];
      CAPTURE(x.name);
      CHECK(x.name == y.name);
      CHECK(x.type == y.type);
      CHECK(x.crc32c == y.crc32c);
    }
  }

  TEST_CASE("synth: bad flags are usage errors (exit 2)") {
    test::TempDir dir;
    const std::string o = " -o " + dir.file("x.ernie");
    for (const std::string& args : std::vector<std::string>{
             "synth --quant q4" + o, "synth --preset 7b --quant q4" + o, "synth --preset tiny --quant q5" + o,
          "synth --preset tiny --quant q4", "synth --preset tiny --quant q4 --format gguf" + o,
          "synth --preset tiny --quant q4 --format hf" + o, "synth --preset tiny --quant q4 --seed x" + o,
          "synth --preset tiny --quant q4 --bogus" + o, "synth --preset tiny" + o}) {
      CAPTURE(args);
      test::CliRun r = test::run_cli(args);
      CHECK(r.code == 2);
      CHECK(!r.err.empty());
    }
    CHECK(!std::filesystem::exists(dir.file("x.ernie")));
  }
}
