#include "hf/tokenizer_settings.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "util/error.h"

namespace ernie {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kSpecialTokenKeys[] = {"bos_token", "eos_token", "unk_token", "pad_token",
                                             "cls_token", "sep_token", "mask_token"};

// A special token is written as a string or as a serialized AddedToken
// object {"content": "...", ...}.
std::optional<std::string> token_string(const Json& v, const char* key) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) {
    auto c = v.find("content");
    if (c != v.end() && c->is_string()) return c->get<std::string>();
  }
  ERNIE_FAIL(ERNIE_E_INVALID_MODEL, "tokenizer_config.json: '%s' must be a string or an object with 'content'", key);
}

bool get_bool(const Json& cfg, const char* key, bool fallback) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return fallback;
  ERNIE_CHECK(it->is_boolean(), ERNIE_E_INVALID_MODEL, "tokenizer_config.json: '%s' must be true or false", key);
  return it->get<bool>();
}

Json added_tokens(const Json& decoder, int64_t vocab_size) {
  ERNIE_CHECK(decoder.is_object(), ERNIE_E_INVALID_MODEL,
              "tokenizer_config.json: 'added_tokens_decoder' must be an object");
  std::vector<std::pair<int64_t, Json>> tokens;
  for (const auto& [key, value] : decoder.items()) {
    int64_t id = -1;
    auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
    ERNIE_CHECK(ec == std::errc() && ptr == key.data() + key.size() && id >= 0 && id < vocab_size,
                ERNIE_E_INVALID_MODEL,
                "tokenizer_config.json: added token id '%s' is not an id in the vocabulary [0, %lld)", key.c_str(),
                static_cast<long long>(vocab_size));
    ERNIE_CHECK(value.is_object(), ERNIE_E_INVALID_MODEL, "tokenizer_config.json: added token %s is not an object",
                key.c_str());
    auto content = value.find("content");
    ERNIE_CHECK(content != value.end() && content->is_string() && !content->get_ref<const std::string&>().empty(),
                ERNIE_E_INVALID_MODEL, "tokenizer_config.json: added token %s has no 'content' string", key.c_str());
    bool special = get_bool(value, "special", false);
    tokens.emplace_back(id, Json{{"id", id}, {"content", *content}, {"special", special}});
  }
  std::sort(tokens.begin(), tokens.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Json out = Json::array();
  for (auto& t : tokens) out.push_back(std::move(t.second));
  return out;
}

// "chat_template" is a string, or a list of {"name", "template"} of which the
// one named "default" (else the first) applies.
std::string config_chat_template(const Json& cfg) {
  auto it = cfg.find("chat_template");
  if (it == cfg.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  ERNIE_CHECK(it->is_array(), ERNIE_E_INVALID_MODEL,
              "tokenizer_config.json: 'chat_template' must be a string or a list of named templates");
  const Json* chosen = nullptr;
  for (const Json& t : *it) {
    ERNIE_CHECK(t.is_object() && t.contains("template") && t["template"].is_string(), ERNIE_E_INVALID_MODEL,
                "tokenizer_config.json: each named chat template needs a 'template' string");
    if (!chosen || (t.contains("name") && t["name"] == "default")) chosen = &t;
  }
  return chosen ? (*chosen)["template"].get<std::string>() : "";
}

}  // namespace

TokenizerSettings tokenizer_settings(const Json& cfg, const std::optional<std::string>& jinja, int64_t vocab_size) {
  ERNIE_CHECK(cfg.is_null() || cfg.is_object(), ERNIE_E_INVALID_MODEL,
              "tokenizer_config.json: not a JSON object");
  TokenizerSettings s;
  Json& m = s.metadata;
  m["type"] = "sentencepiece";
  m["added_tokens"] = Json::array();
  m["add_bos_token"] = false;
  if (cfg.is_object()) {
    auto decoder = cfg.find("added_tokens_decoder");
    if (decoder != cfg.end() && !decoder->is_null()) m["added_tokens"] = added_tokens(*decoder, vocab_size);
    for (const char* key : kSpecialTokenKeys) {
      auto it = cfg.find(key);
      if (it == cfg.end()) continue;
      if (auto text = token_string(*it, key)) m[key] = *text;
    }
    m["add_bos_token"] = get_bool(cfg, "add_bos_token", false);
    if (cfg.contains("add_eos_token")) m["add_eos_token"] = get_bool(cfg, "add_eos_token", false);
    s.chat_template = config_chat_template(cfg);
  }
  if (jinja) s.chat_template = *jinja;
  return s;
}

}  // namespace ernie
