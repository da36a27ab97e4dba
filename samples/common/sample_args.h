// The samples' numeric command-line arguments: a whole number within a
// range, or one error line and exit status 2. (atoi would read a typo as 0,
// which for max_tokens means "up to the context".) Header-only and standard
// C++ only, so each sample stays one program built against ernie.h alone.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace sample {

// argv[i] as a number in [lo, hi], or `fallback` when there are only i
// arguments or fewer.
inline long count_arg(int argc, char** argv, int i, long fallback, long lo, long hi) {
  if (argc <= i) return fallback;
  char* end = nullptr;
  const long v = std::strtol(argv[i], &end, 10);
  if (end == argv[i] || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "error: argument %d ('%s') must be a whole number from %ld to %ld\n", i, argv[i], lo, hi);
    std::exit(2);
  }
  return v;
}

}  // namespace sample
