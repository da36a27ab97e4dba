// config.json parsing: defaults, MoE placement, and refusal of absurd or
// inconsistent values with a message naming the key.
#include <doctest/doctest.h>

#include <string>

#include "model/config.h"
#include "support/test_util.h"
#include "util/error.h"

using namespace ernie;

namespace {

Json base_moe() {
  return Json::parse(test::read_file(test::data_path("tiny-moe-b/config.json")));
}

std::string error_of(const Json& j) {
  try {
    ModelConfig::from_json(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config: golden configs parse") {
  ModelConfig c = ModelConfig::from_json(base_moe());
  CHECK(c.is_moe);
  CHECK(c.n_moe_layers() == 3);
  CHECK(!c.layer_is_moe(0));
  CHECK(c.layer_is_moe(3));
  CHECK(c.q_dim() == 128);
  ModelConfig d = ModelConfig::from_json(Json::parse(test::read_file(test::data_path("tiny-dense/config.json"))));
  CHECK(!d.is_moe);
  CHECK(d.n_moe_layers() == 0);
}

TEST_CASE("config: MoE placement with interval and end index -1") {
  Json j = base_moe();
  j["num_hidden_layers"] = 8;
  j["moe_layer_start_index"] = 1;
  j["moe_layer_end_index"] = -1;
  j["moe_layer_interval"] = 2;
  ModelConfig c = ModelConfig::from_json(j);
  CHECK(c.moe_layer_end_index == 7);
  std::string placed;
  for (int i = 0; i < 8; ++i) placed += c.layer_is_moe(i) ? 'M' : 'D';
  CHECK(placed == "DMDMDMDM");
}

TEST_CASE("config: head_dim defaults to hidden / heads") {
  Json j = base_moe();
  j.erase("head_dim");
  CHECK(ModelConfig::from_json(j).head_dim == 96 / 4);
}

TEST_CASE("config: absurd and inconsistent values are refused by name") {
  auto with = [](const char* key, Json v) {
    Json j = base_moe();
    j[key] = v;
    return j;
  };
  CHECK(error_of(with("vocab_size", 1000000000000LL)).find("'vocab_size'") != std::string::npos);
  CHECK(error_of(with("num_key_value_heads", 3)).find("not a multiple") != std::string::npos);
  CHECK(error_of(with("hidden_size", -4)).find("'hidden_size'") != std::string::npos);
  CHECK(error_of(with("head_dim", 33)).find("even") != std::string::npos);
  CHECK(error_of(with("moe_k", 17)).find("'moe_k'") != std::string::npos);
  CHECK(error_of(with("num_hidden_layers", "four")).find("must be an integer") != std::string::npos);
  CHECK(error_of(with("rope_theta", -1.0)).find("rope_theta") != std::string::npos);
  CHECK(error_of(with("architectures", Json::array({"LlamaForCausalLM"}))).find("not supported") !=
        std::string::npos);
  CHECK(error_of(with("bos_token_id", 5000)).find("outside the vocabulary") != std::string::npos);
  Json missing = base_moe();
  missing.erase("num_attention_heads");
  CHECK(error_of(missing).find("missing required key 'num_attention_heads'") != std::string::npos);
  CHECK(error_of(Json::array()).find("not a JSON object") != std::string::npos);
}
