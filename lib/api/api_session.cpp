// C API: sessions.
#include "api/api_common.h"
#include "api/handles.h"

using namespace ernie;
using ernie::api::guarded;

extern "C" {

static void session_params_defaults(ernie_session_params* p) {
  *p = ernie_session_params{};
  p->struct_size = sizeof(*p);
  p->n_ctx = 0;
  p->n_batch = 512;
  p->n_threads = 0;
  p->kv_type = ERNIE_KV_AUTO;
}
ERNIE_PARAMS_INIT(ernie_session_params_init, ernie_session_params, ::ernie::api::kSessionParamsSize1_0, session_params_defaults)

ERNIE_API ernie_status ernie_session_create(ernie_model* model, const ernie_session_params* params,
                                            ernie_session** out) {
  return guarded("ernie_session_create", [&] {
    ERNIE_REQUIRE_ARG(out, "ernie_session_create: out_session is NULL");
    *out = nullptr;
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_session_create: model is NULL");
    ernie_session_params p;
    ernie_session_params_init(&p);
    api::read_params(params, &p, "ernie_session_params");
    ERNIE_REQUIRE_ARG(p.n_ctx >= 0, "ernie_session_create: n_ctx %d is negative", p.n_ctx);
    SessionOptions o;
    o.n_ctx = p.n_ctx;
    o.n_batch = p.n_batch;
    o.n_threads = p.n_threads;
    switch (p.kv_type) {
      case ERNIE_KV_AUTO: break;
      case ERNIE_KV_F32: o.kv_type = KvType::F32; break;
      case ERNIE_KV_F16: o.kv_type = KvType::F16; break;
      default: ERNIE_FAIL(ERNIE_E_INVALID_ARGUMENT, "ernie_session_create: kv_type %d is not an ERNIE_KV_* value", p.kv_type);
    }
    auto handle = std::make_unique<ernie_session>();
    handle->owner = model;
    handle->impl = std::make_unique<Session>(*model->impl, o);
    model->refs.fetch_add(1);
    *out = handle.release();
  });
}

ERNIE_API void ernie_session_free(ernie_session* session) {
  if (!session) return;
  ernie_model* owner = session->owner;
  delete session;
  if (owner) owner->release();
}

ERNIE_API ernie_status ernie_session_eval(ernie_session* session, const int32_t* tokens, size_t n_tokens,
                                          uint32_t flags) {
  return guarded("ernie_session_eval", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_eval: session is NULL");
    ERNIE_REQUIRE_ARG((flags & ~ERNIE_EVAL_ALL_LOGITS) == 0, "ernie_session_eval: unknown flags 0x%x", flags);
    session->impl->eval(tokens, n_tokens, (flags & ERNIE_EVAL_ALL_LOGITS) != 0);
  });
}

ERNIE_API ernie_status ernie_session_logits(ernie_session* session, int64_t index, const float** out_logits,
                                            size_t* out_n_vocab) {
  return guarded("ernie_session_logits", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_logits: session is NULL");
    ERNIE_REQUIRE_ARG(out_logits, "ernie_session_logits: out_logits is NULL");
    *out_logits = session->impl->logits(index);
    if (out_n_vocab) *out_n_vocab = static_cast<size_t>(session->impl->model().config().vocab_size);
  });
}

ERNIE_API ernie_status ernie_session_n_past(const ernie_session* session, int64_t* out_n_past) {
  return guarded("ernie_session_n_past", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_n_past: session is NULL");
    ERNIE_REQUIRE_ARG(out_n_past, "ernie_session_n_past: out_n_past is NULL");
    *out_n_past = session->impl->n_past();
  });
}

ERNIE_API ernie_status ernie_session_truncate(ernie_session* session, int64_t n_keep) {
  return guarded("ernie_session_truncate", [&] {
    ERNIE_REQUIRE_ARG(session && session->impl, "ernie_session_truncate: session is NULL");
    session->impl->truncate(n_keep);
  });
}

}  // extern "C"
