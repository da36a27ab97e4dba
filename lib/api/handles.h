// What the opaque handles of ernie.h are.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/session.h"

// A model is reference counted: the caller's handle holds one reference and
// every session one more, so ernie_model_free before the last
// ernie_session_free only drops the caller's reference.
struct ernie_model {
  std::unique_ptr<ernie::Model> impl;
  std::atomic<int> refs{1};
  void release() {
    if (refs.fetch_sub(1) == 1) delete this;
  }
};

struct ernie_session {
  ernie_model* owner;
  std::unique_ptr<ernie::Session> impl;
  // The last generation's texts, lent through ernie_generate_result.
  std::string last_text, last_reasoning;
  std::vector<int32_t> last_tokens;
  std::vector<std::string> last_call_strings;  // backing store of last_calls
  std::vector<ernie_tool_call> last_calls;
  std::string last_messages_json;
  uint64_t next_call_id = 1;
};

// The tool callback's result slot (ernie_tool_output_set).
struct ernie_tool_output {
  std::string text;
  bool set = false;
};
