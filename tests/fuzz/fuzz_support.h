// What the fuzz targets share: the golden tiny checkpoint packed and loaded
// once per process, a scratch directory, and file helpers. Each target is one
// LLVMFuzzerTestOneInput; built with clang's libFuzzer it fuzzes, built
// without it (fuzz_main.cpp) it replays its corpus as a regression test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ernie.h"

namespace fuzz {

// tests/data/<name>
std::string data_path(const std::string& name);

// A directory private to this process, removed at exit.
const std::string& scratch_dir();

// tests/data/tiny-moe-a packed into the scratch directory (once).
const std::string& packed_tiny_model();

// That file loaded once; lives as long as the process.
ernie_model* tiny_model();

void write_file(const std::string& path, std::string_view bytes);

// Splits `in` at the first `sep` byte: {before, after}; no separator gives
// {in, ""}.
std::pair<std::string_view, std::string_view> split_once(std::string_view in, char sep);

}  // namespace fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
