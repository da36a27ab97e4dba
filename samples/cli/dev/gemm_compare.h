// `ernie bench --gemm`: the batched (prefill) matrix products of
// ERNIE-4.5-21B-A3B timed on this project's quantized kernels and on oneDNN,
// the candidate GEMM engine for batched work (docs/kernels.md).
#pragma once

#include <string>
#include <vector>

namespace ernie::dev {

struct GemmCase {
  std::string name;  // which product of the model
  const char* type = "";  // the q4 recipe's storage type for it
  long long m = 0, k = 0, n = 0;  // tokens, input width, output rows
  double ours_ms = 0;        // A8 quantization of the input + run_matmuls
  double dnnl_f32_ms = 0;    // oneDNN f32 matmul, weights already f32 (not counted)
  double dequant_ms = 0;     // converting the stored weights to f32 once, all threads
  double dnnl_s8_ms = 0;     // oneDNN s8 x s8 -> f32 matmul with per-row scales, inputs already s8
};

// True when this build has oneDNN (ERNIE_HAVE_DNNL).
bool gemm_compare_available();

// Each case best of `repeats` after a warm-up, with `n_threads` threads for
// both engines. Throws ernie::Error when oneDNN is not built in.
std::vector<GemmCase> compare_gemm(int n_threads, int repeats = 5);

}  // namespace ernie::dev
