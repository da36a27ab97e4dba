// The ERNIE 4.5 tokenizer: SentencePiece BPE with byte fallback, plus the
// checkpoint's added tokens. Two encoding modes (ERNIE45.md §5):
//  - parse_special = true: special pieces written in the text ("<|im_end|>")
//    become their tokens — plain SentencePiece behaviour, used for text the
//    chat template itself produced;
//  - parse_special = false: they stay ordinary text — for any content that
//    came from a user, a tool or the model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace ernie {

struct AddedToken {
  int32_t id;
  std::string content;
};

class Tokenizer {
 public:
  // `model_proto`: the bytes of tokenizer.model. Throws ERNIE_E_INVALID_MODEL.
  Tokenizer(std::string_view model_proto, std::vector<AddedToken> added_tokens);
  ~Tokenizer();

  // Throws ERNIE_E_INVALID_ARGUMENT on invalid UTF-8 or absurd sizes.
  std::vector<int32_t> encode(std::string_view text, bool parse_special) const;
  // Throws ERNIE_E_INVALID_ARGUMENT on an id outside [0, n_pieces()).
  std::string decode(const int32_t* ids, size_t n) const;

  int32_t n_pieces() const { return n_pieces_; }  // ids above this are padding
  // -1 if the text is not a piece.
  int32_t piece_id(std::string_view piece) const;
  // True for control, user-defined and added tokens (the chat format's markup).
  bool is_special(int32_t id) const;

 private:
  std::vector<int32_t> encode_plain(std::string_view text, bool parse_special) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;          // user-defined pieces matched
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_literal_;  // user-defined pieces demoted
  std::vector<AddedToken> added_;   // added tokens SentencePiece does not match by itself
  std::vector<bool> special_;       // per id < n_pieces_
  int32_t n_pieces_ = 0;
};

}  // namespace ernie
