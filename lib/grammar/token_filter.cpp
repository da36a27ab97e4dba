#include "grammar/token_filter.h"

#include <cmath>

namespace ernie {

TokenFilter::TokenFilter(const std::vector<std::string>& token_bytes)
    : n_tokens_(static_cast<int32_t>(token_bytes.size())) {
  nodes_.emplace_back();
  for (int32_t id = 0; id < n_tokens_; ++id) {
    const std::string& bytes = token_bytes[static_cast<size_t>(id)];
    if (bytes.empty()) continue;
    int32_t at = 0;
    for (char ch : bytes) {
      const auto c = static_cast<uint8_t>(ch);
      int32_t next = -1;
      for (const auto& [b, child] : nodes_[static_cast<size_t>(at)].children) {
        if (b == c) next = child;
      }
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_[static_cast<size_t>(at)].children.emplace_back(c, next);
        nodes_.emplace_back();
      }
      at = next;
    }
    nodes_[static_cast<size_t>(at)].tokens.push_back(id);
  }
  // Depth-first numbering (iterative: token strings can be long).
  struct Visit {
    int32_t node;
    size_t next_child;
  };
  std::vector<Visit> stack{{0, 0}};
  nodes_[0].first = 0;
  while (!stack.empty()) {
    Visit& v = stack.back();
    Node& n = nodes_[static_cast<size_t>(v.node)];
    if (v.next_child == 0) {
      n.first = static_cast<uint32_t>(subtree_tokens_.size());
      subtree_tokens_.insert(subtree_tokens_.end(), n.tokens.begin(), n.tokens.end());
    }
    if (v.next_child < n.children.size()) {
      const int32_t child = n.children[v.next_child++].second;
      stack.push_back({child, 0});
      continue;
    }
    n.last = static_cast<uint32_t>(subtree_tokens_.size());
    for (const auto& [byte, child] : n.children) {
      n.plain = n.plain && JsonMatcher::plain_byte(byte) && nodes_[static_cast<size_t>(child)].plain;
    }
    stack.pop_back();
  }
}

void TokenFilter::walk(int32_t node, const JsonMatcher& state, std::vector<uint8_t>& allowed) const {
  const bool open_string = state.in_open_string();
  for (const auto& [byte, child] : nodes_[static_cast<size_t>(node)].children) {
    const Node& c = nodes_[static_cast<size_t>(child)];
    if (open_string && JsonMatcher::plain_byte(byte) && c.plain) {  // the whole subtree stays in the string
      for (uint32_t i = c.first; i < c.last; ++i) allowed[static_cast<size_t>(subtree_tokens_[i])] = 1;
      continue;
    }
    if (state.keeps_state(byte)) {
      for (int32_t id : nodes_[static_cast<size_t>(child)].tokens) allowed[static_cast<size_t>(id)] = 1;
      walk(child, state, allowed);
      continue;
    }
    JsonMatcher next = state;
    if (!next.accept_byte(byte)) continue;
    for (int32_t id : nodes_[static_cast<size_t>(child)].tokens) allowed[static_cast<size_t>(id)] = 1;
    walk(child, next, allowed);
  }
}

void TokenFilter::allowed(const JsonMatcher& matcher, std::vector<uint8_t>& allowed) const {
  allowed.assign(static_cast<size_t>(n_tokens_), 0);
  walk(0, matcher, allowed);
}

void TokenFilter::apply(const JsonMatcher& matcher, float* logits, int32_t n) const {
  std::vector<uint8_t> ok;
  allowed(matcher, ok);
  for (int32_t i = 0; i < n; ++i) {
    if (i >= n_tokens_ || !ok[static_cast<size_t>(i)]) logits[i] = -INFINITY;
  }
}

}  // namespace ernie
