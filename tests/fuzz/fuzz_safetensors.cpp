// The safetensors reader used by `ernie pack` on arbitrary files: the header
// length, the JSON header, dtypes, shapes and offsets. Accepted tensors are
// read back (a few bytes each) through the positional reader.
#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "hf/safetensors.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::scratch_dir() + "/input.safetensors";
  fuzz::write_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    ernie::SafetensorsFile file(path);
    std::vector<char> buf(64);
    for (const auto& t : file.tensors()) {
      (void)t.elements();
      (void)file.find(t.name);
      file.read(t.offset, buf.data(), static_cast<size_t>(std::min<uint64_t>(t.size, buf.size())));
    }
  } catch (const ernie::Error&) {
    // Refused with a status and a message: the expected outcome.
  }
  return 0;
}
