// What the packed metadata keeps from tokenizer_config.json and
// chat_template.jinja: added tokens, special token strings, add_bos_token and
// the raw chat template text (docs/pack.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ernie {

struct TokenizerSettings {
  // {"type": "sentencepiece", "added_tokens": [{"id", "content", "special"}...],
  //  "bos_token": ..., "add_bos_token": bool, ...}
  nlohmann::ordered_json metadata;
  std::string chat_template;  // "" when the checkpoint has none
};

// `tokenizer_config`: the parsed tokenizer_config.json, or null when the file
// is absent. `chat_template_jinja`: chat_template.jinja's text when present;
// it takes precedence over tokenizer_config.json's "chat_template". Throws
// ERNIE_E_INVALID_MODEL for malformed entries (an added token id outside
// [0, vocab_size), a token that is not a string, ...).
TokenizerSettings tokenizer_settings(const nlohmann::ordered_json& tokenizer_config,
                                     const std::optional<std::string>& chat_template_jinja, int64_t vocab_size);

}  // namespace ernie
