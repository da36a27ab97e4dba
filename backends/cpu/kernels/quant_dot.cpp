// Picks the dot kernel for a weight type and instruction set.
#include "backends/cpu/kernels/quant_dot.h"

#include "backends/cpu/kernels/quant_dot_variants.h"

namespace ernie::cpu {

namespace {

struct Variants {
  QuantDotFn scalar;
  QuantDotFn avx2;
  QuantDotFn avx512;
  QuantDotFn avx512_gfni;  // nullptr: the avx512 kernel has no bit fields to unpack
};

QuantDotFn pick(const Variants& v, Isa isa) {
  // Never wider than the CPU runs (a request for more gets the best there
  // is): the wider kernel would die on an illegal instruction.
  if (isa > cpu_supported_isa()) isa = cpu_supported_isa();
  if (isa >= Isa::Avx512Gfni && v.avx512_gfni) return v.avx512_gfni;
  if (isa >= Isa::Avx512Vnni && v.avx512) return v.avx512;
  if (isa >= Isa::Avx2 && v.avx2) return v.avx2;
  return v.scalar;
}

#ifdef ERNIE_KERNELS_X86
#define ERNIE_QUANT_VARIANTS(t) Variants{t##_dot_scalar, t##_dot_avx2, t##_dot_avx512, nullptr}
#define ERNIE_QUANT_VARIANTS_GFNI(t) Variants{t##_dot_scalar, t##_dot_avx2, t##_dot_avx512, t##_dot_avx512_gfni}
#else
#define ERNIE_QUANT_VARIANTS(t) Variants{t##_dot_scalar, nullptr, nullptr, nullptr}
#define ERNIE_QUANT_VARIANTS_GFNI(t) ERNIE_QUANT_VARIANTS(t)
#endif

}  // namespace

QuantDotFn quant_dot_kernel(DType t, Isa isa) {
  switch (t) {
    case DType::Q8: return pick(ERNIE_QUANT_VARIANTS(q8), isa);
    case DType::Q6: return pick(ERNIE_QUANT_VARIANTS_GFNI(q6), isa);
    case DType::Q4: return pick(ERNIE_QUANT_VARIANTS_GFNI(q4), isa);
    case DType::Q2: return pick(ERNIE_QUANT_VARIANTS_GFNI(q2), isa);
    case DType::Q4X8:
    case DType::F32:
    case DType::F16:
    case DType::BF16: return nullptr;
  }
  return nullptr;
}

QuantGroupDotFn quant_group_dot_kernel(DType t, Isa isa) {
  if (t != DType::Q4X8) return nullptr;
#ifdef ERNIE_KERNELS_X86
  return pick(Variants{q4x8_dot_scalar, q4x8_dot_avx2, q4x8_dot_avx512, nullptr}, isa);
#else
  return pick(Variants{q4x8_dot_scalar, nullptr, nullptr, nullptr}, isa);
#endif
}

}  // namespace ernie::cpu
