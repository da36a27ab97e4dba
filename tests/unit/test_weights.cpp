// Binding a packed file's tensors to the model (model/weights.cpp): what a
// file may store where. The token embedding is read one row per token, so
// a type that stores rows in interleaved groups (q4x8) cannot hold it.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/packed_file.h"
#include "format/packed_writer.h"
#include "model/config.h"
#include "model/tensor_names.h"
#include "model/weights.h"
#include "support/test_util.h"
#include "util/error.h"

using namespace ernie;

namespace {

// Rows of 256 (q4's super-block) and a vocabulary of 64 (whole groups of 8).
ModelConfig config() {
  const nlohmann::json j = {{"architectures", {"Ernie4_5_MoeForCausalLM"}},
                            {"hidden_size", 256},
                            {"intermediate_size", 64},
                            {"moe_intermediate_size", 32},
                            {"num_hidden_layers", 2},
                            {"num_attention_heads", 2},
                            {"num_key_value_heads", 1},
                            {"head_dim", 128},
                            {"moe_num_experts", 2},
                            {"moe_k", 1},
                            {"moe_num_shared_experts", 1},
                            {"moe_layer_start_index", 1},
                            {"vocab_size", 64},
                            {"tie_word_embeddings", false}};
  return ModelConfig::from_json(j);
}

// Every tensor the config expects, f32 but the embedding, all bytes zero.
void write_model(const std::string& path, const ModelConfig& cfg, DType embedding) {
  std::vector<PackedTensorDesc> descs;
  for (const TensorSpec& s : expected_tensors(cfg)) {
    descs.push_back({s.name, s.role == TensorRole::Embedding ? embedding : DType::F32, s.shape});
  }
  PackedWriter w(path, nlohmann::ordered_json{{"format", 1}}, "tokenizer", descs);
  for (size_t i = 0; i < w.tensor_count(); ++i) {
    const std::string zeros(w.tensor_size(i), '\0');
    TensorSink sink = w.begin_tensor(i);
    sink.write(zeros.data(), zeros.size());
    sink.end();
  }
  w.finish();
}

}  // namespace

TEST_CASE("weights: a token embedding in q4 binds, in q4x8 row groups it is refused") {
  test::TempDir dir;
  const ModelConfig cfg = config();
  write_model(dir.file("q4.ernie"), cfg, DType::Q4);
  auto q4 = PackedFile::open(dir.file("q4.ernie"), true);
  const ModelWeights w = bind_weights(*q4, cfg);
  CHECK(w.token_embd.type == DType::Q4);

  write_model(dir.file("q4x8.ernie"), cfg, DType::Q4X8);
  auto q4x8 = PackedFile::open(dir.file("q4x8.ernie"), true);
  try {
    bind_weights(*q4x8, cfg);
    FAIL("a q4x8 token embedding was accepted");
  } catch (const Error& e) {
    CHECK(e.status() == ERNIE_E_INVALID_MODEL);
    CHECK(std::string(e.what()).find("'token_embd' is stored as q4x8") != std::string::npos);
  }
}
