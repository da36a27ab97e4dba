#include "model/model.h"

#include "registry/registry.h"
#include "platform/platform.h"
#include "util/checksum.h"
#include "util/error.h"

namespace ernie {
namespace {

std::vector<AddedToken> added_tokens_from(const Json& meta) {
  std::vector<AddedToken> out;
  auto tok = meta.find("tokenizer");
  if (tok == meta.end() || !tok->is_object()) return out;
  auto added = tok->find("added_tokens");
  if (added == tok->end()) return out;
  ERNIE_CHECK(added->is_array(), ERNIE_E_INVALID_MODEL, "packed model: tokenizer.added_tokens is not a list");
  for (const auto& a : *added) {
    ERNIE_CHECK(a.is_object() && a.contains("id") && a["id"].is_number_integer() && a.contains("content") &&
                    a["content"].is_string(),
                ERNIE_E_INVALID_MODEL, "packed model: malformed entry in tokenizer.added_tokens");
    int64_t id = a["id"].get<int64_t>();
    ERNIE_CHECK(id >= 0 && id < (int64_t{1} << 31), ERNIE_E_INVALID_MODEL,
                "packed model: added token id %lld is out of range", static_cast<long long>(id));
    out.push_back({static_cast<int32_t>(id), a["content"].get<std::string>()});
  }
  return out;
}

uint64_t identity_of(const PackedFile& file) {
  const std::string& meta = file.metadata_text();
  uint32_t tensors = 0;
  for (const TensorInfo& t : file.tensors()) {
    tensors = crc32c(t.name.data(), t.name.size(), tensors);
    const uint32_t fields[2] = {static_cast<uint32_t>(t.type), t.crc32c};
    tensors = crc32c(fields, sizeof fields, tensors);
    tensors = crc32c(t.shape.data(), t.shape.size() * sizeof(int64_t), tensors);
  }
  return static_cast<uint64_t>(crc32c(meta.data(), meta.size())) << 32 | tensors;
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& path, const ModelLoadOptions& options) {
  std::unique_ptr<Model> m(new Model());
  m->logger_ = options.logger;
  m->file_ = PackedFile::open(path, options.use_mmap, options.progress, options.max_file_bytes);
  m->max_context_limit_ = options.max_context;
  m->session_budget_ = std::make_unique<MemoryBudget>(options.session_memory_budget);
  const Json& meta = m->file_->metadata();
  ERNIE_CHECK(meta.is_object() && meta.contains("config"), ERNIE_E_INVALID_MODEL,
              "packed model '%s': metadata has no config", path.c_str());
  ModelConfig config = ModelConfig::from_json(meta["config"]);
  m->weights_ = bind_weights(*m->file_, config);
  m->tokenizer_ = std::make_unique<Tokenizer>(m->file_->tokenizer_bytes(), added_tokens_from(meta));
  ERNIE_CHECK(m->tokenizer_->n_pieces() <= config.vocab_size, ERNIE_E_INVALID_MODEL,
              "packed model: the tokenizer has %d pieces but the model's vocabulary is %lld",
              m->tokenizer_->n_pieces(), static_cast<long long>(config.vocab_size));
  auto tmpl = meta.find("chat_template");
  if (tmpl != meta.end() && tmpl->is_string()) m->chat_template_ = tmpl->get<std::string>();

  m->identity_ = identity_of(*m->file_);
  m->n_threads_ = options.n_threads > 0 ? options.n_threads : physical_core_count();
  PreparedBackend prepared = prepare_backend(options.backend, m->weights_, m->logger_);
  m->backend_name_ = prepared.name;
  m->runtime_ = std::move(prepared.runtime);
  m->logger_.log(ERNIE_LOG_INFO, strfmt("loaded '%s': %s, %lld layers, backend %s, %d threads", path.c_str(),
                                        config.architecture.c_str(), static_cast<long long>(config.num_layers),
                                        m->backend_name_.c_str(), m->n_threads_));
  if (options.progress && !options.progress(1.0f)) ERNIE_FAIL(ERNIE_E_CANCELLED, "model load cancelled");
  return m;
}

}  // namespace ernie

namespace ernie {

const TokenFilter& Model::token_filter() const {
  std::call_once(filter_once_, [this] { filter_ = std::make_unique<TokenFilter>(tokenizer_->token_bytes()); });
  return *filter_;
}

}  // namespace ernie
