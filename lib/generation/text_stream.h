// Turns generated tokens into text that is safe to stream: complete UTF-8
// characters only, and nothing that might turn out to be the start of a stop
// string (which must not reach the caller). A stop string that straddles
// token boundaries is found all the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ernie {

class Tokenizer;

class TextStream {
 public:
  TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop_strings);

  // Adds one token; returns the text that became safe to emit. After a stop
  // string completes, stopped() is true and the text before it was returned.
  std::string push(int32_t token);
  // Adds text that did not come from a token of this stream's own (e.g. an
  // injected "</think>") — treated like decoded text.
  std::string push_text(const std::string& text);
  // At the end of generation: whatever was held back (nothing after a stop).
  std::string finish();

  bool stopped() const { return stopped_; }
  const std::string& text() const { return emitted_; }  // everything emitted

 private:
  std::string release();

  const Tokenizer& tokenizer_;
  std::vector<std::string> stops_;
  std::vector<int32_t> ids_;      // tokens since the last injected text
  std::string prefix_;            // decoded text before ids_
  std::string decoded_;           // prefix_ + decode(ids_)
  std::string emitted_;
  bool stopped_ = false;
};

}  // namespace ernie
