// Bytes of weights one decoded token reads (docs/bench.md): every attention,
// norm, dense-MLP, router and shared-expert tensor whole; of each MoE layer's
// stacked routed experts the average share of moe_k of them; the output head
// whole (the embedding when tied); one embedding row.
#pragma once

#include <cstdint>
#include <vector>

#include "dev/probes.h"
#include "format/packed_file.h"
#include "model/config.h"

namespace ernie::dev {

struct WeightTraffic {
  uint64_t attention = 0;      // q, k, v, o of every layer
  uint64_t dense_mlp = 0;      // gate, up, down of the dense layers
  uint64_t moe_routed = 0;     // moe_k / n_experts of each stacked expert tensor
  uint64_t moe_shared = 0;     // shared experts
  uint64_t router = 0;         // router weights and correction bias
  uint64_t norms = 0;
  uint64_t output_head = 0;
  uint64_t embedding_row = 0;  // one row of token_embd
  uint64_t total() const {
    return attention + dense_mlp + moe_routed + moe_shared + router + norms + output_head + embedding_row;
  }
};

// Throws ERNIE_E_INVALID_MODEL if a tensor of the config is missing.
WeightTraffic weight_bytes_per_token(const PackedFile& file, const ModelConfig& config);

// Where those bytes lie in `file`'s memory: the tensors a token reads whole
// (the embedding only where it is also the head; one row of it is
// negligible), and the stacked routed experts, of which a token reads on
// average `routed_share`. bench times streaming both (RangeReadProbe).
struct TokenReads {
  std::vector<ByteRange> every_token;
  std::vector<ByteRange> routed;
  double routed_share = 0;  // moe_k / n_experts
  double bytes() const;     // what a token reads on average: every_token + routed_share of routed
};

TokenReads token_read_ranges(const PackedFile& file, const ModelConfig& config);

}  // namespace ernie::dev
