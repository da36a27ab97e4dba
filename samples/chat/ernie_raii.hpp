// Minimal RAII wrappers over ernie.h for C++ applications: handles are
// released by destructors, failures become exceptions carrying the status and
// the library's message. Header-only on purpose: copy it into your project.
#pragma once

#include <ernie.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ernie_cpp {

class Error : public std::runtime_error {
 public:
  Error(ernie_status status, const std::string& what)
      : std::runtime_error(what + ": " + ernie_last_error()), status_(status) {}
  ernie_status status() const { return status_; }

 private:
  ernie_status status_;
};

inline void check(ernie_status status, const char* what) {
  if (status != ERNIE_OK) throw Error(status, what);
}

struct ModelDeleter {
  void operator()(ernie_model* m) const { ernie_model_free(m); }
};
struct SessionDeleter {
  void operator()(ernie_session* s) const { ernie_session_free(s); }
};

// A loaded model; movable, not copyable. Sessions keep the native model alive
// on their own, so a Model may be destroyed before its sessions.
class Model {
 public:
  explicit Model(const std::string& path, const ernie_model_params* params = nullptr) {
    ernie_model* raw = nullptr;
    check(ernie_model_load(path.c_str(), params, &raw), "cannot load model");
    handle_.reset(raw);
  }
  ernie_model* get() const { return handle_.get(); }

 private:
  std::unique_ptr<ernie_model, ModelDeleter> handle_;
};

// One chat message whose strings the message owns.
struct Message {
  std::string role, content;
};

// A session: its own KV cache over a shared model. One call at a time.
class Session {
 public:
  explicit Session(const Model& model, const ernie_session_params* params = nullptr) {
    ernie_session* raw = nullptr;
    check(ernie_session_create(model.get(), params, &raw), "cannot create session");
    handle_.reset(raw);
  }
  ernie_session* get() const { return handle_.get(); }

  // Runs one chat turn over the whole conversation; returns the result, whose
  // borrowed pointers are valid until this session's next call.
  ernie_generate_result chat(const std::vector<Message>& conversation, const ernie_generate_params& params) {
    std::vector<ernie_message> messages;
    messages.reserve(conversation.size());
    for (const Message& m : conversation) {
      ernie_message raw{};
      raw.struct_size = sizeof raw;
      raw.role = m.role.c_str();
      raw.content = m.content.c_str();
      messages.push_back(raw);
    }
    ernie_generate_result result{};
    result.struct_size = sizeof result;
    check(ernie_session_chat(get(), messages.data(), messages.size(), nullptr, &params, &result), "chat failed");
    return result;
  }

  // Thread-safe: stops the generation running on this session.
  void cancel() { ernie_session_cancel(get()); }

 private:
  std::unique_ptr<ernie_session, SessionDeleter> handle_;
};

}  // namespace ernie_cpp
