#include "dev/weight_traffic.h"

#include "model/tensor_names.h"
#include "util/error.h"

namespace ernie::dev {
namespace {

const TensorInfo& tensor_of(const PackedFile& file, const TensorSpec& spec) {
  const TensorInfo* t = file.find(spec.name);
  ERNIE_CHECK(t != nullptr, ERNIE_E_INVALID_MODEL, "packed model: tensor '%s' is missing", spec.name.c_str());
  return *t;
}

}  // namespace

WeightTraffic weight_bytes_per_token(const PackedFile& file, const ModelConfig& config) {
  WeightTraffic w;
  for (const TensorSpec& spec : expected_tensors(config)) {
    const uint64_t bytes = tensor_of(file, spec).size;
    switch (spec.role) {
      case TensorRole::Embedding:
        w.embedding_row += bytes / static_cast<uint64_t>(config.vocab_size);
        if (config.tie_word_embeddings) w.output_head += bytes;
        break;
      case TensorRole::OutputHead: w.output_head += bytes; break;
      case TensorRole::Norm: w.norms += bytes; break;
      case TensorRole::Attention: w.attention += bytes; break;
      case TensorRole::DenseMlp: w.dense_mlp += bytes; break;
      case TensorRole::Router: w.router += bytes; break;
      case TensorRole::RoutedExpert:
        w.moe_routed += bytes / static_cast<uint64_t>(config.moe_num_experts) * static_cast<uint64_t>(config.moe_k);
        break;
      case TensorRole::SharedExpert: w.moe_shared += bytes; break;
    }
  }
  return w;
}

TokenReads token_read_ranges(const PackedFile& file, const ModelConfig& config) {
  TokenReads r;
  if (config.moe_num_experts > 0) {
    r.routed_share = static_cast<double>(config.moe_k) / static_cast<double>(config.moe_num_experts);
  }
  for (const TensorSpec& spec : expected_tensors(config)) {
    if (spec.role == TensorRole::Embedding && !config.tie_word_embeddings) continue;
    const TensorInfo& t = tensor_of(file, spec);
    const ByteRange range{file.data(t), t.size};
    (spec.role == TensorRole::RoutedExpert ? r.routed : r.every_token).push_back(range);
  }
  return r;
}

double TokenReads::bytes() const {
  double n = 0;
  for (const ByteRange& b : every_token) n += static_cast<double>(b.bytes);
  for (const ByteRange& b : routed) n += static_cast<double>(b.bytes) * routed_share;
  return n;
}

}  // namespace ernie::dev
