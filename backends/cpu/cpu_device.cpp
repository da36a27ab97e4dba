// The CPU as a device of the CPU backend, for `ernie backends`: its model
// name, the machine's RAM (available now: what a model could still map
// without swapping) and the instruction set the quantized kernels use.
#include "backends/backend.h"
#include "backends/cpu/kernels/quant_dot.h"
#include "platform/platform.h"

namespace ernie {

BackendDevice describe_cpu_device() {
  BackendDevice d;
  d.name = cpu_model_name();
  if (d.name.empty()) d.name = "CPU";
  d.memory_bytes = physical_memory_bytes();
  d.free_bytes = available_memory_bytes();
  d.compute_capability = cpu::isa_name(cpu::detect_isa());
  return d;
}

}  // namespace ernie
