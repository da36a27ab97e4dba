#include "model/session.h"

#include <algorithm>

#include "model/model.h"
#include "util/error.h"

namespace ernie {
namespace {
// Keeping every position's logits for a huge eval would allocate without
// bound (4 GiB is 10k tokens of the 103k vocabulary): refuse above this.
constexpr uint64_t kMaxLogitsBytes = uint64_t{4} << 30;
}  // namespace

Session::Session(const Model& model, const SessionOptions& options)
    : model_(model), budget_(model.session_budget()) {
  const ModelConfig& c = model.config();
  const int64_t limit = model.max_context_limit();
  int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(c.max_position_embeddings, 4096);
  if (options.n_ctx == 0 && limit > 0) n_ctx = std::min(n_ctx, limit);
  ERNIE_CHECK(n_ctx <= c.max_position_embeddings, ERNIE_E_INVALID_ARGUMENT,
              "session: n_ctx %lld is above the model's maximum context %lld", static_cast<long long>(n_ctx),
              static_cast<long long>(c.max_position_embeddings));
  ERNIE_CHECK(limit == 0 || n_ctx <= limit, ERNIE_E_OUT_OF_MEMORY,
              "session: n_ctx %lld is above the limit of %lld tokens set by ernie_model_params.max_context",
              static_cast<long long>(n_ctx), static_cast<long long>(limit));
  ERNIE_CHECK(options.n_batch >= 0 && options.n_batch <= 65536, ERNIE_E_INVALID_ARGUMENT,
              "session: n_batch %lld is out of range [1, 65536]", static_cast<long long>(options.n_batch));
  int64_t n_batch = std::min<int64_t>(options.n_batch > 0 ? options.n_batch : 512, n_ctx);
  ERNIE_CHECK(options.n_threads >= 0 && options.n_threads <= 1024, ERNIE_E_INVALID_ARGUMENT,
              "session: n_threads %d is out of range", options.n_threads);
  const KvType kv = options.kv_type.value_or(model.weights().default_kv_type());
  // The budget is taken before anything is allocated: the state's buffers
  // plus one row of logits (ernie_model_session_bytes reports the same).
  state_bytes_ = model.runtime().state_bytes(n_ctx, n_batch, kv);
  budget_.resize(state_bytes_ + logits_row_bytes(), "a session");
  state_ = model.runtime().create_state(n_ctx, n_batch, kv);
  pool_ = std::make_unique<ThreadPool>(options.n_threads > 0 ? options.n_threads : model.n_threads());
}

Session::~Session() = default;

uint64_t Session::logits_row_bytes() const {
  return static_cast<uint64_t>(model_.config().vocab_size) * sizeof(float);
}

void Session::eval(const int32_t* tokens, size_t n_tokens, bool all_logits) {
  const ModelConfig& c = model_.config();
  ERNIE_CHECK(n_tokens > 0, ERNIE_E_INVALID_ARGUMENT, "eval: no tokens");
  ERNIE_CHECK(tokens, ERNIE_E_INVALID_ARGUMENT, "eval: tokens is NULL");
  for (size_t i = 0; i < n_tokens; ++i) {
    ERNIE_CHECK(tokens[i] >= 0 && tokens[i] < c.vocab_size, ERNIE_E_INVALID_ARGUMENT,
                "eval: token %zu has id %d, outside the vocabulary [0, %lld)", i, tokens[i],
                static_cast<long long>(c.vocab_size));
  }
  ERNIE_CHECK(static_cast<uint64_t>(n_past_) + n_tokens <= static_cast<uint64_t>(state_->n_ctx()),
              ERNIE_E_CONTEXT_FULL, "eval: %zu tokens do not fit: the context holds %lld of %lld", n_tokens,
              static_cast<long long>(n_past_), static_cast<long long>(state_->n_ctx()));
  const auto vocab = static_cast<uint64_t>(c.vocab_size);
  const uint64_t rows = all_logits ? n_tokens : 1;
  ERNIE_CHECK(rows * vocab * sizeof(float) <= kMaxLogitsBytes, ERNIE_E_OUT_OF_MEMORY,
              "eval: keeping the logits of all %zu tokens would take %llu bytes; evaluate in smaller calls",
              n_tokens, static_cast<unsigned long long>(rows * vocab * sizeof(float)));
  // Kept logits count against the session budget; the buffer is exactly as
  // large as this call needs (decoding reuses it without reallocating).
  if (logits_.size() != rows * vocab) {
    budget_.resize(state_bytes_ + rows * logits_row_bytes(), "keeping the logits of every evaluated token");
    std::vector<float>(rows * vocab).swap(logits_);
  }

  const auto n = static_cast<int64_t>(n_tokens);
  for (int64_t start = 0; start < n; start += state_->n_batch()) {
    const int64_t len = std::min(state_->n_batch(), n - start);
    ForwardRequest req;
    req.tokens = tokens + start;
    req.n_tokens = len;
    req.pos0 = n_past_;
    req.all_logits = all_logits;
    // Without all_logits only the final batch's last row is kept; earlier
    // batches still produce one row, written to the same place.
    req.logits = all_logits ? &logits_[static_cast<size_t>(start) * vocab] : logits_.data();
    req.pool = pool_.get();
    model_.runtime().forward(*state_, req);
    tokens_.insert(tokens_.end(), req.tokens, req.tokens + len);
    n_past_ += len;
  }
  last_n_tokens_ = n;
  last_all_ = all_logits;
}

const float* Session::logits(int64_t index) const {
  ERNIE_CHECK(last_n_tokens_ > 0, ERNIE_E_INVALID_ARGUMENT, "logits: nothing has been evaluated yet");
  int64_t i = index < 0 ? last_n_tokens_ + index : index;
  ERNIE_CHECK(i >= 0 && i < last_n_tokens_, ERNIE_E_INVALID_ARGUMENT,
              "logits: index %lld is outside the last eval's %lld tokens", static_cast<long long>(index),
              static_cast<long long>(last_n_tokens_));
  if (!last_all_) {
    ERNIE_CHECK(i == last_n_tokens_ - 1, ERNIE_E_INVALID_ARGUMENT,
                "logits: only the last token's logits were kept (evaluate with ERNIE_EVAL_ALL_LOGITS)");
    return logits_.data();
  }
  return &logits_[static_cast<size_t>(i) * static_cast<size_t>(model_.config().vocab_size)];
}

void Session::truncate(int64_t n_keep) {
  ERNIE_CHECK(n_keep >= 0 && n_keep <= n_past_, ERNIE_E_INVALID_ARGUMENT,
              "truncate: n_keep %lld is outside [0, %lld]", static_cast<long long>(n_keep),
              static_cast<long long>(n_past_));
  n_past_ = n_keep;  // cache entries past n_past are overwritten by later evals
  tokens_.resize(static_cast<size_t>(n_keep));
  last_n_tokens_ = 0;
}

int64_t Session::set_context(const int32_t* prompt, size_t n_prompt) {
  ERNIE_CHECK(n_prompt > 0 && prompt, ERNIE_E_INVALID_ARGUMENT, "the prompt is empty");
  ERNIE_CHECK(n_prompt <= static_cast<size_t>(state_->n_ctx()), ERNIE_E_CONTEXT_FULL,
              "the prompt has %zu tokens but the session's context holds %lld", n_prompt,
              static_cast<long long>(state_->n_ctx()));
  size_t common = 0;
  while (common < n_prompt && common < tokens_.size() && tokens_[common] == prompt[common]) ++common;
  // The last prompt token is always evaluated: its logits start generation.
  if (common == n_prompt) --common;
  const auto vocab = model_.config().vocab_size;
  for (size_t i = common; i < n_prompt; ++i) {
    ERNIE_CHECK(prompt[i] >= 0 && prompt[i] < vocab, ERNIE_E_INVALID_ARGUMENT,
                "prompt token %zu has id %d, outside the vocabulary [0, %lld)", i, prompt[i],
                static_cast<long long>(vocab));
  }
  truncate(static_cast<int64_t>(common));
  eval(prompt + common, n_prompt - common, false);
  return static_cast<int64_t>(common);
}

void Session::set_threads(int n_threads) {
  ERNIE_CHECK(n_threads >= 0 && n_threads <= 1024, ERNIE_E_INVALID_ARGUMENT, "n_threads %d is out of range",
              n_threads);
  const int want = n_threads > 0 ? n_threads : model_.n_threads();
  if (pool_->size() != want) pool_ = std::make_unique<ThreadPool>(want);
}

}  // namespace ernie
