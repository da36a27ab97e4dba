// Just enough of the SentencePiece ModelProto wire format to list the pieces'
// types and to rewrite them, without depending on protobuf headers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ernie {

// sentencepiece::ModelProto::SentencePiece::Type values (wire format).
enum class SpPieceType : uint8_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

struct SpPiece {
  std::string text;
  SpPieceType type = SpPieceType::Normal;
};

// Lists the pieces of a serialized ModelProto, in id order. Throws
// ERNIE_E_INVALID_MODEL on malformed bytes.
std::vector<SpPiece> sp_list_pieces(std::string_view model_proto);

// Returns a copy of the proto in which every USER_DEFINED piece is UNUSED:
// SentencePiece then no longer matches those pieces as whole strings in text,
// so "<|im_end|>" typed by a user tokenizes as ordinary characters.
std::string sp_demote_user_defined(std::string_view model_proto);

// Whether the normalizer prepends a "▁" to the text (add_dummy_prefix,
// default true).
bool sp_adds_dummy_prefix(std::string_view model_proto);

// Returns a copy of the proto with add_dummy_prefix = false, so text can be
// encoded in stretches without each stretch gaining a leading "▁".
std::string sp_without_dummy_prefix(std::string_view model_proto);

}  // namespace ernie
