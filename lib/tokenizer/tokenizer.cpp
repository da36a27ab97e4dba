#include "tokenizer/tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>

#include "tokenizer/sp_model_proto.h"
#include "util/error.h"
#include "util/utf8.h"

namespace ernie {
namespace {

constexpr size_t kMaxTextBytes = size_t{1} << 28;  // 256 MiB per call

std::unique_ptr<sentencepiece::SentencePieceProcessor> load_sp(std::string_view proto) {
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  auto status = sp->LoadFromSerializedProto(proto);
  ERNIE_CHECK(status.ok(), ERNIE_E_INVALID_MODEL, "tokenizer model: %s", status.ToString().c_str());
  return sp;
}

}  // namespace

Tokenizer::Tokenizer(std::string_view model_proto, std::vector<AddedToken> added_tokens) {
  std::vector<SpPiece> pieces = sp_list_pieces(model_proto);
  ERNIE_CHECK(!pieces.empty(), ERNIE_E_INVALID_MODEL, "tokenizer model: no pieces");
  sp_ = load_sp(model_proto);
  sp_literal_ = load_sp(sp_demote_user_defined(model_proto));
  n_pieces_ = sp_->GetPieceSize();
  ERNIE_CHECK(n_pieces_ == static_cast<int32_t>(pieces.size()), ERNIE_E_INVALID_MODEL,
              "tokenizer model: piece count mismatch");
  special_.resize(static_cast<size_t>(n_pieces_));
  for (int32_t i = 0; i < n_pieces_; ++i) {
    auto t = pieces[static_cast<size_t>(i)].type;
    special_[static_cast<size_t>(i)] = t == SpPieceType::Control || t == SpPieceType::UserDefined;
  }
  // Added tokens that are already user-defined pieces are matched by
  // SentencePiece itself; the rest are split out of the text here.
  for (auto& a : added_tokens) {
    ERNIE_CHECK(a.id >= 0 && a.id < n_pieces_, ERNIE_E_INVALID_MODEL,
                "tokenizer: added token '%s' has id %d outside the vocabulary (%d pieces)",
                a.content.c_str(), a.id, n_pieces_);
    ERNIE_CHECK(!a.content.empty() && utf8_valid(a.content), ERNIE_E_INVALID_MODEL,
                "tokenizer: added token %d has empty or invalid text", a.id);
    special_[static_cast<size_t>(a.id)] = true;
    const auto& p = pieces[static_cast<size_t>(a.id)];
    bool sp_matches = p.type == SpPieceType::UserDefined && p.text == a.content;
    if (!sp_matches && p.type != SpPieceType::Control) added_.push_back(std::move(a));
  }
  // Longest first, so a token that is a prefix of another never wins.
  std::sort(added_.begin(), added_.end(),
            [](const AddedToken& x, const AddedToken& y) { return x.content.size() > y.content.size(); });
}

Tokenizer::~Tokenizer() = default;

std::vector<int32_t> Tokenizer::encode_plain(std::string_view text, bool parse_special) const {
  std::vector<int> ids;
  if (text.empty()) return {};
  auto& sp = parse_special ? *sp_ : *sp_literal_;
  auto status = sp.Encode(text, &ids);
  ERNIE_CHECK(status.ok(), ERNIE_E_INTERNAL, "tokenizer: %s", status.ToString().c_str());
  return {ids.begin(), ids.end()};
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  ERNIE_CHECK(text.size() <= kMaxTextBytes, ERNIE_E_INVALID_ARGUMENT,
              "tokenize: text of %zu bytes is above the %zu-byte limit of one call", text.size(),
              kMaxTextBytes);
  size_t bad = 0;
  ERNIE_CHECK(utf8_valid(text, &bad), ERNIE_E_INVALID_ARGUMENT,
              "tokenize: text is not valid UTF-8 (byte %zu)", bad);
  if (!parse_special || added_.empty()) return encode_plain(text, parse_special);

  std::vector<int32_t> out;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const AddedToken* hit = nullptr;
    for (const auto& a : added_) {
      if (text.compare(i, a.content.size(), a.content) == 0) {
        hit = &a;
        break;
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    auto seg = encode_plain(text.substr(start, i - start), true);
    out.insert(out.end(), seg.begin(), seg.end());
    out.push_back(hit->id);
    i += hit->content.size();
    start = i;
  }
  auto seg = encode_plain(text.substr(start), true);
  out.insert(out.end(), seg.begin(), seg.end());
  return out;
}

std::string Tokenizer::decode(const int32_t* ids, size_t n) const {
  std::vector<int> v;
  v.reserve(n);
  std::string out;
  auto flush = [&] {
    if (v.empty()) return;
    std::string text;
    auto status = sp_->Decode(v, &text);
    ERNIE_CHECK(status.ok(), ERNIE_E_INTERNAL, "detokenize: %s", status.ToString().c_str());
    out += text;
    v.clear();
  };
  for (size_t k = 0; k < n; ++k) {
    int32_t id = ids[k];
    ERNIE_CHECK(id >= 0 && id < n_pieces_, ERNIE_E_INVALID_ARGUMENT,
                "detokenize: id %d is outside the tokenizer's vocabulary (%d pieces)", id, n_pieces_);
    auto added = std::find_if(added_.begin(), added_.end(), [&](const AddedToken& a) { return a.id == id; });
    if (added != added_.end()) {
      flush();
      out += added->content;
    } else {
      v.push_back(id);
    }
  }
  flush();
  return out;
}

int32_t Tokenizer::piece_id(std::string_view piece) const {
  for (const auto& a : added_) {
    if (a.content == piece) return a.id;
  }
  int id = sp_->PieceToId(piece);
  if (id == sp_->unk_id() && piece != sp_->IdToPiece(id)) return -1;
  return id;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < n_pieces_ && special_[static_cast<size_t>(id)];
}

}  // namespace ernie
