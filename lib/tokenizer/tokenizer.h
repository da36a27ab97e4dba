// The ERNIE 4.5 tokenizer: SentencePiece BPE with byte fallback, plus the
// checkpoint's added tokens. Two encoding modes (ERNIE45.md §5):
//  - parse_special = true: special pieces written in the text ("<|im_end|>")
//    become their tokens — plain SentencePiece behaviour, used for text the
//    chat template itself produced;
//  - parse_special = false: they stay ordinary text — for any content that
//    came from a user, a tool or the model.
// Both run through one mechanism: special strings are matched here (longest
// first, as SentencePiece's own matcher does), and the text between them is
// encoded by a SentencePiece instance that matches none. A prompt made of
// pieces in different modes therefore tokenizes exactly like the whole
// string would, except that content cannot produce control tokens.
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

// A stretch of text and whether special strings in it become control tokens.
struct TextPiece {
  std::string_view text;
  bool parse_special;
};

class Tokenizer {
 public:
  // `model_proto`: the bytes of tokenizer.model. Throws ERNIE_E_INVALID_MODEL.
  Tokenizer(std::string_view model_proto, std::vector<AddedToken> added_tokens);
  ~Tokenizer();

  // Throws ERNIE_E_INVALID_ARGUMENT on invalid UTF-8 or absurd sizes.
  std::vector<int32_t> encode(std::string_view text, bool parse_special) const;
  // Encodes the concatenation of the pieces, each in its own mode.
  std::vector<int32_t> encode(const std::vector<TextPiece>& pieces) const;
  // Throws ERNIE_E_INVALID_ARGUMENT on an id outside [0, n_pieces()).
  std::string decode(const int32_t* ids, size_t n) const;

  int32_t n_pieces() const { return n_pieces_; }  // ids above this are padding
  // -1 if the text is not a piece.
  int32_t piece_id(std::string_view piece) const;
  // True for control, user-defined and added tokens (the chat format's markup).
  bool is_special(int32_t id) const;
  // The bytes each token adds to generated text ("▁" as a space, byte
  // pieces as their byte); "" for special tokens. For constrained decoding.
  const std::vector<std::string>& token_bytes() const { return token_bytes_; }

 private:
  struct Special {
    std::string text;
    int32_t id;
  };
  // Longest special string starting at text[pos], or nullptr.
  const Special* match_special(std::string_view text, size_t pos) const;
  void encode_stretch(const std::string& text, bool first, std::vector<int32_t>& out) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;        // decoding, piece lookup
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_plain_;  // no specials, no dummy prefix
  bool dummy_prefix_ = true;
  std::vector<Special> specials_;   // user-defined pieces and added tokens, longest first
  bool special_first_byte_[256] = {};
  std::vector<AddedToken> added_;   // added tokens that are not SentencePiece pieces' own text
  std::vector<bool> special_;       // per id < n_pieces_
  std::vector<std::string> token_bytes_;
  int32_t n_pieces_ = 0;
};

}  // namespace ernie
