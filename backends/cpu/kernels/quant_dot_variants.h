// Every variant of every quantized dot kernel, for the dispatcher
// (quant_dot.cpp) and the tests. All share QuantDotFn's contract
// (quant_dot.h). The SIMD variants are only built on x86 (ERNIE_KERNELS_X86);
// each checks nothing about the CPU: quant_dot_kernel hands out only what
// detect_isa allows.
#pragma once

#include <cstdint>
#include <type_traits>

#include "backends/cpu/kernels/quant_dot.h"
#include "util/error.h"

#if defined(__x86_64__) || defined(__i386__)
#define ERNIE_KERNELS_X86 1
#endif

namespace ernie::cpu {

// The best Isa of this CPU, ignoring ERNIE_CPU_ISA (cpu_isa.cpp); probed once.
Isa cpu_supported_isa();

void q8_dot_scalar(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q6_dot_scalar(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q4_dot_scalar(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q2_dot_scalar(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q4x8_dot_scalar(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);

#ifdef ERNIE_KERNELS_X86
void q8_dot_avx2(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q6_dot_avx2(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q4_dot_avx2(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q2_dot_avx2(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q4x8_dot_avx2(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);

void q8_dot_avx512(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q6_dot_avx512(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q4_dot_avx512(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q2_dot_avx512(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q4x8_dot_avx512(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);

// The avx512 kernels of the types with bit-field codes, unpacking them with GFNI.
void q6_dot_avx512_gfni(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q4_dot_avx512_gfni(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
void q2_dot_avx512_gfni(const uint8_t* w, const quant::ActRowA8* acts, int n_acts, int64_t n, float* out);
#endif

// The argument checks every variant makes: cheap next to a row's work.
inline void check_quant_dot_args(int n_acts, int64_t n, int64_t block_values) {
  ERNIE_CHECK(n_acts >= 1 && n_acts <= 4, ERNIE_E_INVALID_ARGUMENT,
              "quantized dot: %d activation rows (1 to 4 per call)", n_acts);
  ERNIE_CHECK(n >= 0 && n % block_values == 0, ERNIE_E_INVALID_ARGUMENT,
              "quantized dot: row length %lld is not a whole number of %lld-value blocks",
              static_cast<long long>(n), static_cast<long long>(block_values));
}

// Calls f(std::integral_constant<int, n_acts>{}) so that the SIMD loops are
// compiled once per activation count, with their accumulators in registers.
template <typename F>
inline void with_n_acts(int n_acts, F&& f) {
  switch (n_acts) {
    case 1: f(std::integral_constant<int, 1>{}); return;
    case 2: f(std::integral_constant<int, 2>{}); return;
    case 3: f(std::integral_constant<int, 3>{}); return;
    default: f(std::integral_constant<int, 4>{}); return;
  }
}

}  // namespace ernie::cpu
