// A generated tokenizer for synthetic models: a valid SentencePiece BPE
// ModelProto (serialized here, no protobuf library) with byte fallback, the
// ids ERNIE 4.5 uses (<unk> 0, <s> 1, </s> 2), its special pieces as
// user-defined pieces (ERNIE45.md §5) and filler pieces up to the requested
// count, plus the tokenizer_config.json and PT chat template that go with it.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ernie::dev {

// The smallest piece count synth_tokenizer_model accepts.
int64_t synth_tokenizer_min_pieces();

// Serialized ModelProto with exactly `n_pieces` pieces. Throws
// ERNIE_E_INVALID_ARGUMENT below synth_tokenizer_min_pieces().
std::string synth_tokenizer_model(int64_t n_pieces);

// tokenizer_config.json: special token strings, add_bos_token false and the
// PT chat template ("<|begin_of_sentence|>", "User: ", "Assistant: ").
nlohmann::ordered_json synth_tokenizer_config();

}  // namespace ernie::dev
