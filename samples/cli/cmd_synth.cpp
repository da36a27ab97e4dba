// `ernie synth`: a synthetic model with real shapes (developer command,
// dev/synth_model.h).
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "cli_args.h"
#include "dev/core_errors.h"
#include "dev/synth_model.h"
#include "dev/synth_presets.h"

namespace cli {

int cmd_synth(const std::vector<std::string>& argv) {
  Args args(argv, {"--preset", "--quant", "-o", "--seed", "--threads", "--format"}, {"--quiet"});
  if (!args.positional().empty()) usage_error("synth takes no positional arguments: ernie synth --preset P -o OUT");
  ernie::dev::SynthOptions opt;
  opt.preset = args.get("--preset");
  bool known = false;
  for (const std::string& p : ernie::dev::synth_preset_names()) known = known || p == opt.preset;
  if (!known) usage_error("--preset must be 21b-a3b, 0.3b or tiny (got '" + opt.preset + "')");
  const std::string format = args.get_or("--format", "packed");
  if (format != "packed" && format != "hf") usage_error("--format must be packed or hf (got '" + format + "')");
  const std::string quant = format == "hf" ? args.get_or("--quant", "bf16") : args.get("--quant");
  if (quant != "bf16") {
    opt.recipe = ernie::quant::recipe_from_name(quant);
    if (!opt.recipe) usage_error("--quant must be q8, q6, q4, q2 or bf16 (got '" + quant + "')");
    if (format == "hf") usage_error("--format hf writes a bf16 checkpoint: --quant must be bf16");
  }
  opt.seed = static_cast<uint64_t>(args.get_int("--seed", 1, 0, INT64_MAX));
  opt.n_threads = static_cast<int>(args.get_int("--threads", 0, 0, 1024));
  const std::string out = args.get("-o");
  const bool quiet = args.has("--quiet");
  if (!quiet) {
    opt.progress = [](float f) {
      std::fprintf(stderr, "\rsynth: %3d%%", static_cast<int>(f * 100.0f));
      if (f >= 1.0f) std::fputc('\n', stderr);
    };
  }
  const auto start = std::chrono::steady_clock::now();
  with_core_errors([&] {
    if (format == "hf") ernie::dev::write_synth_hf(out, opt);
    else ernie::dev::write_synth_packed(out, opt);
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!quiet) std::fprintf(stderr, "wrote %s (%s, %s, seed %llu) in %.1f s\n", out.c_str(), opt.preset.c_str(),
                           quant.c_str(), static_cast<unsigned long long>(opt.seed), seconds);
  return 0;
}

}  // namespace cli
