// ernie: the command-line tool of the ernie SDK. Each subcommand lives in its
// own cmd_*.cpp file and uses only the public C API (ernie.h), except the
// developer commands synth and bench, which also reach internals (dev/).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli_args.h"

namespace {

const char* kUsage =
    "usage: ernie <command> [flags]\n"
    "\n"
    "commands:\n"
    "  pack <hf_dir> -o FILE [--type f32|f16|bf16 | --quant q8|q6|q4|q2] [--threads N] [--quiet]\n"
    "                      convert a Hugging Face ERNIE 4.5 checkpoint into a packed model\n"
    "  info -m FILE [--verify] [--json]\n"
    "                      configuration, tensor count, sizes and memory estimate\n"
    "  tokenize -m FILE --text STR [--no-parse-special] [--json]\n"
    "                      token ids of a text, on one line\n"
    "  logits -m FILE --ids 1,5,17 -o OUT.f32 [--threads N] [--batch N]\n"
    "                      logits of every position, float32 [T, vocab] little-endian\n"
    "  run -m FILE -p TEXT [--system TEXT] [--raw] [--json] [generation flags]\n"
    "                      answer one prompt (as a user message unless --raw), streamed\n"
    "  chat -m FILE [--system TEXT] [generation flags]\n"
    "                      interactive conversation: /reset, /save FILE, /load FILE, /quit\n"
    "  render -m FILE --chat CONV.json [--format pt|thinking]\n"
    "                      print the rendered prompt exactly (no added newline)\n"
    "  parse -m FILE [--format pt|thinking]\n"
    "                      model output on stdin -> reasoning, content, tool calls (JSON)\n"
    "  backends [--json]   compute backends (cpu, cuda plugin): devices, memory, why one is unavailable\n"
  "  version             library version\n"
    "\n"
    "developer commands (docs/bench.md):\n"
    "  synth --preset 21b-a3b|0.3b|tiny --quant q8|q6|q4|q2|bf16 -o OUT [--format packed|hf] [--seed N]\n"
    "        [--threads N] [--quiet]\n"
    "                      a model with real shapes and random weights (packed file or HF checkpoint)\n"
    "  bench -m FILE [-p 128] [-n 32] [-d DEPTH] [-t THREADS] [--probe-mib 1024] [--no-mmap] [--json]\n"
    "                      prefill/decode speed, peak RSS, bandwidth and compute probes, roofline\n"
    "  bench -m FILE --quality REF_DIR [-t THREADS] [--json]\n"
    "                      KL, top-1 and per-tensor SNR against a Hugging Face checkpoint's golden logits\n"
    "  bench --gemm [-t THREADS] [--json]\n"
    "                      the 21B-A3B prefill products on ernie's kernels and on oneDNN\n"
    "  bench --attention [-d 4096] [-n 20] [-t THREADS] [--json]\n"
    "                      decode's attention alone over a DEPTH-position f16 cache (21B-A3B shape)\n"
    "\n"
    "generation flags: --temp T (0 = greedy) --top-k K --top-p P --min-p P --repeat-penalty R\n"
    "  --presence-penalty P --frequency-penalty F --penalty-window N --seed S -n/--max-tokens N\n"
    "  --stop STR (repeatable) --logprobs N --no-reasoning --reasoning-budget N --threads N --ctx N\n"
    "  --schema FILE (the answer is JSON valid under this JSON Schema)\n"
    "\n"
    "Errors print one line on stderr; exit codes are listed in docs/cli.md.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("ernie: usage error: no command given (see ernie --help)\n", stderr);
    return cli::kExitUsage;
  }
  auto is_help = [](const char* a) { return !std::strcmp(a, "-h") || !std::strcmp(a, "--help"); };
  // `ernie --help`, `ernie help`, and `ernie bench --help`: the usage, which
  // lists every command's flags. After a command only as its first flag,
  // where it cannot be another flag's value.
  if (is_help(argv[1]) || !std::strcmp(argv[1], "help") || (argc > 2 && is_help(argv[2]))) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    if (cmd == "pack") return cli::cmd_pack(rest);
    if (cmd == "info") return cli::cmd_info(rest);
    if (cmd == "tokenize") return cli::cmd_tokenize(rest);
    if (cmd == "logits") return cli::cmd_logits(rest);
    if (cmd == "run") return cli::cmd_run(rest);
    if (cmd == "chat") return cli::cmd_chat(rest);
    if (cmd == "render") return cli::cmd_render(rest);
    if (cmd == "parse") return cli::cmd_parse(rest);
    if (cmd == "backends") return cli::cmd_backends(rest);
    if (cmd == "synth") return cli::cmd_synth(rest);
    if (cmd == "bench") return cli::cmd_bench(rest);
    if (cmd == "version" || cmd == "--version") {
      std::printf("ernie %s (ABI %u)\n", ernie_version_string(), ernie_abi_version());
      return 0;
    }
    cli::usage_error("unknown command '" + cmd + "' (see ernie --help)");
  } catch (const cli::Failure& f) {
    std::fprintf(stderr, "ernie %s: %s\n", cmd.c_str(), f.what());
    return f.code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ernie %s: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
