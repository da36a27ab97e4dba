// Opening a Hugging Face checkpoint directory (what `ernie pack` reads first)
// where one file is arbitrary and the others are the golden tiny-moe-a's. The
// first input byte picks the file; the rest is its content.
#include <filesystem>
#include <string>

#include "fuzz_support.h"
#include "hf/checkpoint.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace {

const char* const kFiles[] = {"config.json", "tokenizer_config.json", "chat_template.jinja",
                              "model.safetensors.index.json", "model.safetensors", "tokenizer.model"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const unsigned mode = data[0] % std::size(kFiles);
  const std::string fuzzed = kFiles[mode];
  const fs::path dir = fs::path(fuzz::scratch_dir()) / "checkpoint";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  const fs::path golden = fuzz::data_path("tiny-moe-a");
  for (const char* name : {"config.json", "tokenizer_config.json", "tokenizer.model"}) {
    if (name != fuzzed) fs::create_symlink(golden / name, dir / name);
  }
  // With a fuzzed index the golden weights are its one named shard.
  if (fuzzed == "model.safetensors.index.json") {
    fs::create_symlink(golden / "model.safetensors", dir / "model-00001-of-00001.safetensors");
  } else if (fuzzed != "model.safetensors") {
    fs::create_symlink(golden / "model.safetensors", dir / "model.safetensors");
  }
  fuzz::write_file((dir / fuzzed).string(), std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  try {
    ernie::HfCheckpoint ck = ernie::open_hf_checkpoint(dir.string());
    (void)ck;
  } catch (const ernie::Error&) {
  }
  return 0;
}
