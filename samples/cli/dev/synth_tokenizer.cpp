#include "dev/synth_tokenizer.h"

#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace ernie::dev {
namespace {

// sentencepiece_model.proto field numbers used here.
enum : uint32_t {
  kModelPieces = 1, kModelTrainerSpec = 2, kModelNormalizerSpec = 3,
  kPieceText = 1, kPieceScore = 2, kPieceType = 3,
  kTrainerModelType = 3, kTrainerVocabSize = 4, kTrainerByteFallback = 35,
  kTrainerUnkId = 40, kTrainerBosId = 41, kTrainerEosId = 42, kTrainerPadId = 43,
  kNormalizerName = 1, kNormalizerRemoveExtraWhitespaces = 4,
};
enum : uint32_t { kTypeNormal = 1, kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4, kTypeByte = 6 };
constexpr uint32_t kModelTypeBpe = 2;

// The special pieces of the ERNIE 4.5 tokenizers, matched as whole pieces.
constexpr const char* kUserDefined[] = {
    "<|begin_of_sentence|>", "<|end_of_sentence|>", "<|im_start|>", "<|im_end|>", "<mask:0>", "<mask:1>",
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>",
    "<|IMAGE_PLACEHOLDER|>", "<|AUDIO_PLACEHOLDER|>"};
constexpr const char* kSpaceMark = "\xE2\x96\x81";  // "▁", SentencePiece's escaped space

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_key(std::string& out, uint32_t field, uint32_t wire) { put_varint(out, uint64_t{field} << 3 | wire); }
void put_uint(std::string& out, uint32_t field, uint64_t v) {
  put_key(out, field, 0);
  put_varint(out, v);
}
void put_int32(std::string& out, uint32_t field, int32_t v) {  // negative int32: 10-byte two's complement
  put_uint(out, field, static_cast<uint64_t>(static_cast<int64_t>(v)));
}
void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_key(out, field, 2);
  put_varint(out, bytes.size());
  out.append(bytes);
}
void put_float(std::string& out, uint32_t field, float v) {
  put_key(out, field, 5);
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts (the SDK's targets)
  out.append(b, 4);
}

struct Piece {
  std::string text;
  uint32_t type;
};

// Normal pieces in BPE merge order: the space mark, printable ASCII, each
// with a leading space mark, then lowercase strings of growing length (plain
// and space-marked), so every piece is reachable by merges of earlier ones.
std::vector<Piece> normal_pieces(size_t count) {
  std::vector<Piece> out;
  auto add = [&](std::string s) {
    if (out.size() < count) out.push_back({std::move(s), kTypeNormal});
  };
  add(kSpaceMark);
  for (char c = '!'; c <= '~'; ++c) add(std::string(1, c));
  for (char c = '!'; c <= '~'; ++c) add(kSpaceMark + std::string(1, c));
  std::vector<std::string> level = {""};
  while (out.size() < count) {
    std::vector<std::string> next;
    for (const std::string& prefix : level) {
      for (char c = 'a'; c <= 'z'; ++c) next.push_back(prefix + c);
    }
    for (const std::string& s : next) {
      if (s.size() < 2) continue;  // single letters are already pieces
      add(s);
      add(kSpaceMark + s);
      if (out.size() >= count) break;
    }
    level = std::move(next);
  }
  return out;
}

std::vector<Piece> fixed_pieces() {
  std::vector<Piece> p = {{"<unk>", kTypeUnknown}, {"<s>", kTypeControl}, {"</s>", kTypeControl}};
  for (const char* s : kUserDefined) p.push_back({s, kTypeUserDefined});
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    p.push_back({name, kTypeByte});
  }
  return p;
}

constexpr int64_t kMinNormalPieces = 1 + 2 * 94;  // the space mark and (space-marked) printable ASCII

}  // namespace

int64_t synth_tokenizer_min_pieces() { return static_cast<int64_t>(fixed_pieces().size()) + kMinNormalPieces; }

std::string synth_tokenizer_model(int64_t n_pieces) {
  ERNIE_CHECK(n_pieces >= synth_tokenizer_min_pieces() && n_pieces <= (int64_t{1} << 22), ERNIE_E_INVALID_ARGUMENT,
              "synth tokenizer: %lld pieces is outside [%lld, %lld]", static_cast<long long>(n_pieces),
              static_cast<long long>(synth_tokenizer_min_pieces()), static_cast<long long>(int64_t{1} << 22));
  std::vector<Piece> pieces = fixed_pieces();
  for (Piece& p : normal_pieces(static_cast<size_t>(n_pieces) - pieces.size())) pieces.push_back(std::move(p));

  std::string proto;
  int64_t rank = 0;
  for (const Piece& p : pieces) {
    std::string msg;
    put_bytes(msg, kPieceText, p.text);
    // BPE merges the highest-scoring pair first: earlier normal pieces win.
    put_float(msg, kPieceScore, p.type == kTypeNormal ? static_cast<float>(-(rank++)) : 0.0f);
    put_uint(msg, kPieceType, p.type);
    put_bytes(proto, kModelPieces, msg);
  }
  std::string trainer;
  put_uint(trainer, kTrainerModelType, kModelTypeBpe);
  put_uint(trainer, kTrainerVocabSize, static_cast<uint64_t>(n_pieces));
  put_uint(trainer, kTrainerByteFallback, 1);
  put_int32(trainer, kTrainerUnkId, 0);
  put_int32(trainer, kTrainerBosId, 1);
  put_int32(trainer, kTrainerEosId, 2);
  put_int32(trainer, kTrainerPadId, -1);
  put_bytes(proto, kModelTrainerSpec, trainer);
  std::string normalizer;
  put_bytes(normalizer, kNormalizerName, "identity");
  put_uint(normalizer, kNormalizerRemoveExtraWhitespaces, 0);
  put_bytes(proto, kModelNormalizerSpec, normalizer);
  return proto;
}

nlohmann::ordered_json synth_tokenizer_config() {
  // The PT format (ERNIE45.md §6), written for these synthetic models.
  const char* chat_template =
      "{%- if not add_generation_prompt is defined -%}{%- set add_generation_prompt = true -%}{%- endif -%}"
      "{{- '<|begin_of_sentence|>' -}}"
      "{%- for message in messages -%}"
      "{%- if message['role'] == 'system' -%}{{- message['content'] + '\\n' -}}"
      "{%- elif message['role'] == 'user' -%}{{- 'User: ' + message['content'] + '\\n' -}}"
      "{%- elif message['role'] == 'assistant' -%}{{- 'Assistant: ' + message['content'] + '<|end_of_sentence|>' -}}"
      "{%- endif -%}"
      "{%- endfor -%}"
      "{%- if add_generation_prompt -%}{{- 'Assistant: ' -}}{%- endif -%}";
  return {{"tokenizer_class", "Ernie4_5_Tokenizer"},
          {"bos_token", "<s>"},
          {"eos_token", "</s>"},
          {"unk_token", "<unk>"},
          {"pad_token", "<unk>"},
          {"cls_token", "<|begin_of_sentence|>"},
          {"sep_token", "<|end_of_sentence|>"},
          {"mask_token", "<mask:1>"},
          {"add_bos_token", false},
          {"add_eos_token", false},
          {"chat_template", chat_template}};
}

}  // namespace ernie::dev
