// `ernie bench --attention`: decode's attention over a long KV cache, timed
// alone on ERNIE-4.5-21B-A3B's shape (28 layers, 20 query heads sharing 4 kv
// heads of 128), the f16 cache laid out as sessions keep it
// (docs/kernels.md#attention-over-the-kv-cache).
#pragma once

#include <cstdint>

namespace ernie::dev {

struct AttentionTiming {
  int64_t depth = 0, layers = 0;
  const char* isa = "";   // the kernels' instruction set (cpu::detect_isa)
  uint64_t kv_bytes = 0;  // K and V of every layer: what one token reads
  // Per decoded token (every layer's attention once), over the timed tokens:
  double back_to_back_ms = 0, back_to_back_best_ms = 0;  // layer after layer
  // The same with `between_bytes` read by the threads before each layer, as
  // a decoded token's weights are: they evict the cache between two
  // attentions, where back to back part of the KV stays in the L3.
  double between_reads_ms = 0, between_reads_best_ms = 0;
  uint64_t between_bytes = 0;
};

// Medians and bests of `tokens` tokens each way (after a warm-up token),
// one token at position `depth` attending to depth + 1 positions, with
// `n_threads` threads. Throws ernie::Error when the memory cannot be had.
AttentionTiming time_decode_attention(int n_threads, int64_t depth, int tokens);

}  // namespace ernie::dev
