#include "generation/text_stream.h"

#include <algorithm>

#include "tokenizer/tokenizer.h"
#include "util/utf8.h"

namespace ernie {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

TextStream::TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop_strings)
    : tokenizer_(tokenizer), stops_(std::move(stop_strings)) {
  stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
}

// The whole sequence is decoded again each time: SentencePiece decodes a
// token differently depending on its neighbours (leading "▁", byte pieces
// that only form a character together), so per-token text would be wrong.
std::string TextStream::push(int32_t token) {
  if (stopped_) return {};
  ids_.push_back(token);
  decoded_ = prefix_ + tokenizer_.decode(ids_.data(), ids_.size());
  return release();
}

std::string TextStream::push_text(const std::string& text) {
  if (stopped_) return {};
  prefix_ = decoded_ + text;
  ids_.clear();
  decoded_ = prefix_;
  return release();
}

std::string TextStream::release() {
  const size_t done = emitted_.size();
  // Earliest stop string that ends after what was emitted (emitted text
  // never contains a complete one).
  size_t stop_at = std::string::npos;
  for (const auto& s : stops_) {
    size_t from = done >= s.size() ? done - s.size() + 1 : 0;
    size_t p = decoded_.find(s, from);
    if (p != std::string::npos && p < stop_at) stop_at = p;
  }
  if (stop_at != std::string::npos) {
    stopped_ = true;
    std::string out = stop_at > done ? decoded_.substr(done, stop_at - done) : std::string();
    emitted_ += out;
    return out;
  }
  // Hold back: a suffix that could begin a stop string, trailing replacement
  // characters (a byte sequence still being completed) and split characters.
  size_t end = decoded_.size();
  for (const auto& s : stops_) {
    for (size_t k = std::min(s.size() - 1, decoded_.size()); k > 0; --k) {
      if (decoded_.compare(decoded_.size() - k, k, s, 0, k) == 0) {
        end = std::min(end, decoded_.size() - k);
        break;
      }
    }
  }
  while (end >= done + kReplacement.size() && decoded_.compare(end - kReplacement.size(), kReplacement.size(), kReplacement) == 0) {
    end -= kReplacement.size();
  }
  end = utf8_complete_prefix(std::string_view(decoded_).substr(0, end));
  if (end <= done) return {};
  std::string out = decoded_.substr(done, end - done);
  emitted_ += out;
  return out;
}

std::string TextStream::finish() {
  if (stopped_ || decoded_.size() <= emitted_.size()) return {};
  std::string out = decoded_.substr(emitted_.size());
  emitted_ += out;
  return out;
}

}  // namespace ernie
