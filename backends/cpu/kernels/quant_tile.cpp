// Picks the tile kernel for a weight type and instruction set.
#include "backends/cpu/kernels/quant_tile.h"

namespace ernie::cpu {

QuantTileFn quant_tile_kernel(DType t, Isa isa) {
#ifdef ERNIE_KERNELS_X86
  // Only where the CPU has the instructions, as for the row kernels; the
  // types without a tile kernel keep their row kernels in prefill.
  if (isa > cpu_supported_isa()) isa = cpu_supported_isa();
  if (isa >= Isa::Avx512Vnni) {
    if (t == DType::Q4) return q4_tile_avx512;
    if (t == DType::Q6) return q6_tile_avx512;
  }
  if (isa == Isa::Avx2) {
    if (t == DType::Q4) return q4_tile_avx2;
    if (t == DType::Q6) return q6_tile_avx2;
  }
#else
  (void)t;
  (void)isa;
#endif
  return nullptr;
}

}  // namespace ernie::cpu
