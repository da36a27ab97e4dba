// Which kernel instruction set this CPU runs, and the ERNIE_CPU_ISA override
// (for benchmarks, and for reproducing a result from an older machine).
#include <cstdlib>
#include <cstring>

#include "backends/cpu/kernels/quant_dot_variants.h"

#ifdef ERNIE_KERNELS_X86
#include <cpuid.h>
#endif

namespace ernie::cpu {

#ifdef ERNIE_KERNELS_X86
namespace {

// F16C (CPUID leaf 1, ECX bit 29): not every compiler's
// __builtin_cpu_supports knows the name.
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}

}  // namespace
#endif

namespace {

Isa probe_supported_isa() {
#ifdef ERNIE_KERNELS_X86
  // libgcc's checks include the OS having enabled the AVX/AVX-512 registers (XCR0).
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  if (avx2 && avx512) return __builtin_cpu_supports("gfni") ? Isa::Avx512Gfni : Isa::Avx512Vnni;
  if (avx2) return Isa::Avx2;
#endif
  return Isa::Scalar;
}

}  // namespace

// Probed once: kernel dispatch asks on every call.
Isa cpu_supported_isa() {
  static const Isa best = probe_supported_isa();
  return best;
}

Isa detect_isa() {
  const Isa best = cpu_supported_isa();
  const char* env = std::getenv("ERNIE_CPU_ISA");
  if (env == nullptr || *env == '\0') return best;
  for (Isa isa : kIsas) {
    if (std::strcmp(env, isa_name(isa)) == 0) return isa < best ? isa : best;
  }
  ERNIE_FAIL(ERNIE_E_INVALID_ARGUMENT, "ERNIE_CPU_ISA=%s is not one of scalar, avx2, avx512, avx512gfni",
             quote_name(env).c_str());
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512Vnni: return "avx512";
    case Isa::Avx512Gfni: return "avx512gfni";
  }
  return "?";
}

}  // namespace ernie::cpu
