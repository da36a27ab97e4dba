// Which tokens may come next under a JsonMatcher: a trie of the tokens' byte
// strings is walked from the matcher's state, so a prefix shared by many
// tokens is checked once. Special tokens (empty byte strings) never match.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grammar/json_matcher.h"

namespace ernie {

class TokenFilter {
 public:
  // token_bytes[id]: the bytes token `id` adds to the text ("" for control tokens).
  explicit TokenFilter(const std::vector<std::string>& token_bytes);

  // allowed[id] = 1 if the matcher accepts token id's bytes next.
  void allowed(const JsonMatcher& matcher, std::vector<uint8_t>& allowed) const;
  // Sets the logits of disallowed tokens (ids < n) to -INFINITY.
  void apply(const JsonMatcher& matcher, float* logits, int32_t n) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // byte, node index
    std::vector<int32_t> tokens;                        // tokens ending here
    // The tokens of this node's subtree are subtree_tokens_[first, last);
    // `plain`: every byte below this node is a plain string character, so
    // inside an open string the whole subtree is allowed at once.
    uint32_t first = 0, last = 0;
    bool plain = true;
  };
  void walk(int32_t node, const JsonMatcher& state, std::vector<uint8_t>& allowed) const;

  std::vector<Node> nodes_;
  std::vector<int32_t> subtree_tokens_;  // tokens in depth-first order
  int32_t n_tokens_ = 0;
};

}  // namespace ernie
