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
  sp_plain_ = load_sp(sp_without_dummy_prefix(sp_demote_user_defined(model_proto)));
  dummy_prefix_ = sp_adds_dummy_prefix(model_proto);
  n_pieces_ = sp_->GetPieceSize();
  ERNIE_CHECK(n_pieces_ == static_cast<int32_t>(pieces.size()), ERNIE_E_INVALID_MODEL,
              "tokenizer model: piece count mismatch");
  special_.resize(static_cast<size_t>(n_pieces_));
  for (int32_t i = 0; i < n_pieces_; ++i) {
    const auto& p = pieces[static_cast<size_t>(i)];
    special_[static_cast<size_t>(i)] = p.type == SpPieceType::Control || p.type == SpPieceType::UserDefined;
    if (p.type == SpPieceType::UserDefined && !p.text.empty()) specials_.push_back({p.text, i});
  }
  for (auto& a : added_tokens) {
    ERNIE_CHECK(a.id >= 0 && a.id < n_pieces_, ERNIE_E_INVALID_MODEL,
                "tokenizer: added token '%s' has id %d outside the vocabulary (%d pieces)",
                a.content.c_str(), a.id, n_pieces_);
    ERNIE_CHECK(!a.content.empty() && utf8_valid(a.content), ERNIE_E_INVALID_MODEL,
                "tokenizer: added token %d has empty or invalid text", a.id);
    special_[static_cast<size_t>(a.id)] = true;
    const auto& p = pieces[static_cast<size_t>(a.id)];
    if (p.type == SpPieceType::UserDefined && p.text == a.content) continue;  // already matched
    specials_.push_back({a.content, a.id});
    if (p.text != a.content) added_.push_back(std::move(a));
  }
  // Longest first, so a token that is a prefix of another never wins.
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const Special& x, const Special& y) { return x.text.size() > y.text.size(); });
  for (const auto& sp : specials_) special_first_byte_[static_cast<uint8_t>(sp.text[0])] = true;

  token_bytes_.resize(static_cast<size_t>(n_pieces_));
  for (int32_t i = 0; i < n_pieces_; ++i) {
    const auto& p = pieces[static_cast<size_t>(i)];
    std::string& out = token_bytes_[static_cast<size_t>(i)];
    if (special_[static_cast<size_t>(i)] || p.type == SpPieceType::Unknown || p.type == SpPieceType::Unused) continue;
    if (p.type == SpPieceType::Byte && p.text.size() == 6 && p.text.rfind("<0x", 0) == 0) {
      out.push_back(static_cast<char>(std::stoi(p.text.substr(3, 2), nullptr, 16)));
      continue;
    }
    for (size_t k = 0; k < p.text.size();) {
      if (p.text.compare(k, 3, "\xE2\x96\x81") == 0) {  // "▁"
        out.push_back(' ');
        k += 3;
      } else {
        out.push_back(p.text[k++]);
      }
    }
  }
}

Tokenizer::~Tokenizer() = default;

const Tokenizer::Special* Tokenizer::match_special(std::string_view text, size_t pos) const {
  if (!special_first_byte_[static_cast<uint8_t>(text[pos])]) return nullptr;
  for (const auto& sp : specials_) {
    if (text.compare(pos, sp.text.size(), sp.text) == 0) return &sp;
  }
  return nullptr;
}

// SentencePiece prepends "▁" to a whole text (add_dummy_prefix); stretches
// are encoded without it, so the first stretch gets it here, even when empty
// (a text that starts with a special token starts with a lone "▁").
void Tokenizer::encode_stretch(const std::string& text, bool first, std::vector<int32_t>& out) const {
  std::string with_prefix;
  const std::string* input = &text;
  if (first && dummy_prefix_) {
    with_prefix = " " + text;
    input = &with_prefix;
  }
  if (input->empty()) return;
  std::vector<int> ids;
  auto status = sp_plain_->Encode(*input, &ids);
  ERNIE_CHECK(status.ok(), ERNIE_E_INTERNAL, "tokenizer: %s", status.ToString().c_str());
  out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  return encode(std::vector<TextPiece>{{text, parse_special}});
}

std::vector<int32_t> Tokenizer::encode(const std::vector<TextPiece>& pieces) const {
  size_t total = 0;
  for (const auto& p : pieces) {
    total += p.text.size();
    size_t bad = 0;
    ERNIE_CHECK(utf8_valid(p.text, &bad), ERNIE_E_INVALID_ARGUMENT,
                "tokenize: text is not valid UTF-8 (byte %zu)", bad);
  }
  ERNIE_CHECK(total <= kMaxTextBytes, ERNIE_E_INVALID_ARGUMENT,
              "tokenize: text of %zu bytes is above the %zu-byte limit of one call", total, kMaxTextBytes);
  std::vector<int32_t> out;
  if (total == 0) return out;
  std::string stretch;  // plain text accumulated across pieces
  bool first = true;
  for (const auto& p : pieces) {
    size_t start = 0;
    for (size_t i = 0; p.parse_special && i < p.text.size();) {
      const Special* sp = match_special(p.text, i);
      if (!sp) {
        ++i;
        continue;
      }
      stretch.append(p.text.substr(start, i - start));
      encode_stretch(stretch, first, out);
      stretch.clear();
      first = false;
      out.push_back(sp->id);
      i += sp->text.size();
      start = i;
    }
    stretch.append(p.text.substr(start));
  }
  encode_stretch(stretch, first, out);
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
