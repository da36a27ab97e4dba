// A loaded model: the packed file, its config, tokenizer, bound weights and
// the backend runtime prepared for them. Immutable after load, so any number
// of sessions may use it from any threads.
#pragma once

#include <memory>
#include <string>

#include <mutex>

#include "backends/backend.h"
#include "grammar/token_filter.h"
#include "format/packed_file.h"
#include "model/config.h"
#include "model/memory_budget.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"
#include "util/logger.h"

namespace ernie {

struct ModelLoadOptions {
  int n_threads = 0;  // 0: physical cores
  bool use_mmap = true;
  std::string backend = "auto";
  ProgressCallback progress;
  Logger logger;
  // Resource limits (ernie_model_params); 0: none.
  uint64_t max_file_bytes = 0;
  int64_t max_context = 0;
  uint64_t session_memory_budget = 0;
};

class Model {
 public:
  // Throws ernie::Error (see PackedFile::open, bind_weights, Tokenizer).
  static std::unique_ptr<Model> load(const std::string& path, const ModelLoadOptions& options);

  const ModelConfig& config() const { return weights_.config; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const PackedFile& file() const { return *file_; }
  const ModelRuntime& runtime() const { return *runtime_; }
  const std::string& backend_name() const { return backend_name_; }
  const Logger& logger() const { return logger_; }
  int n_threads() const { return n_threads_; }
  const std::string& chat_template() const { return chat_template_; }
  // Identifies the model's content (metadata and every tensor's name, type,
  // shape and checksum): saved sessions are bound to it.
  uint64_t identity() const { return identity_; }
  // The vocabulary trie for constrained decoding, built on first use.
  const TokenFilter& token_filter() const;
  // Largest n_ctx a session may have: the model's maximum context, or the
  // max_context limit if lower (0 if none was set).
  int64_t max_context_limit() const { return max_context_limit_; }
  // Shared by all sessions of the model (const: sessions hold const Model&).
  MemoryBudget& session_budget() const { return *session_budget_; }

 private:
  Model() = default;
  std::unique_ptr<PackedFile> file_;
  ModelWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ModelRuntime> runtime_;
  std::string backend_name_;
  std::string chat_template_;
  Logger logger_;
  int n_threads_ = 1;
  uint64_t identity_ = 0;
  int64_t max_context_limit_ = 0;
  std::unique_ptr<MemoryBudget> session_budget_;
  mutable std::once_flag filter_once_;
  mutable std::unique_ptr<TokenFilter> filter_;
};

}  // namespace ernie
