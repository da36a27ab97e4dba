// Byte-level matcher of JSON text against a compiled schema: accepts exactly
// the prefixes of the JSON texts that generation may produce for the schema
// (docs/grammar.md: json.dumps spacing, properties in schema order, bounded
// numbers as integers). The token filter asks it which tokens may come next.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/json_schema.h"

namespace ernie {

class JsonMatcher {
 public:
  explicit JsonMatcher(std::shared_ptr<const JsonSchema> schema);

  // Feeds bytes; all or nothing: on false the state is unchanged.
  bool accept(std::string_view bytes);
  bool accept_byte(uint8_t byte);
  // A complete value has been produced (nothing more may follow).
  bool is_complete() const;
  // True when accepting `byte` is certain and leaves the state as it is (a
  // plain character inside a string of unbounded length): the token filter
  // then walks on without copying the state.
  bool keeps_state(uint8_t byte) const;
  // Inside a string of unbounded length with no escape or character pending:
  // every plain byte (printable ASCII except '"' and '\\') is accepted.
  bool in_open_string() const;
  static bool plain_byte(uint8_t c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

 private:
  struct Frame {
    enum class Type : uint8_t { Value, Object, Key, Array, String, Number, Literal, Punct };
    Type type;
    int node = -1;        // schema node (-1: any JSON value)
    uint8_t phase = 0;
    int32_t index = 0;    // object: next property; array: items so far; string: code points
    int32_t aux = 0;      // string: escape/UTF-8 state; number: digit count; key: candidate mask base
    std::string buf;      // number text, literal/key progress, punctuation to emit
    std::vector<int32_t> candidates;  // literal/key: indices still possible
  };
  using Stack = std::vector<Frame>;

  bool step(Stack& s, uint8_t c) const;             // false: byte rejected
  bool start_value(Stack& s, int node, uint8_t c) const;
  void expand(std::vector<Stack>& out, Stack s) const;  // resolves anyOf at the top
  bool frame_can_end(const Frame& f) const;
  void value_done(Stack& s) const;                  // the top value finished: pop, notify parent

  std::shared_ptr<const JsonSchema> schema_;
  std::vector<Stack> alternatives_;
};

}  // namespace ernie
