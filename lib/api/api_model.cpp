// C API: models.
#include "api/api_common.h"
#include "api/handles.h"

using namespace ernie;
using ernie::api::guarded;

extern "C" {

static void model_params_defaults(ernie_model_params* p) {
  *p = ernie_model_params{};
  p->struct_size = sizeof(*p);
  p->n_threads = 0;
  p->use_mmap = 1;
  p->backend = nullptr;
  p->log_level = ERNIE_LOG_WARN;
}
ERNIE_PARAMS_INIT(ernie_model_params_init, ernie_model_params, ::ernie::api::kModelParamsSize1_0, model_params_defaults)

ERNIE_API ernie_status ernie_model_load(const char* path, const ernie_model_params* params, ernie_model** out) {
  return guarded("ernie_model_load", [&] {
    ERNIE_REQUIRE_ARG(out, "ernie_model_load: out_model is NULL");
    *out = nullptr;
    ERNIE_REQUIRE_ARG(path && *path, "ernie_model_load: path is NULL or empty");
    ernie_model_params p;
    ernie_model_params_init(&p);
    api::read_params(params, &p, "ernie_model_params");
    ERNIE_REQUIRE_ARG(p.n_threads >= 0 && p.n_threads <= 1024, "ernie_model_load: n_threads %d is out of range",
                      p.n_threads);
    ERNIE_REQUIRE_ARG(p.max_context >= 0, "ernie_model_load: max_context %d is negative", p.max_context);
    ModelLoadOptions o;
    o.n_threads = p.n_threads;
    o.use_mmap = p.use_mmap != 0;
    o.backend = p.backend ? p.backend : "auto";
    o.logger = Logger(p.log, p.log_user_data, p.log_level);
    o.max_context = p.max_context;
    o.max_file_bytes = p.max_file_bytes;
    o.session_memory_budget = p.session_memory_budget;
    if (p.progress) {
      o.progress = [fn = p.progress, ud = p.progress_user_data](float f) { return fn(ud, f) == 0; };
    }
    auto handle = std::make_unique<ernie_model>();
    handle->impl = Model::load(path, o);
    *out = handle.release();
  });
}

ERNIE_API void ernie_model_free(ernie_model* model) {
  if (model) model->release();
}

ERNIE_API ernie_status ernie_model_verify(const ernie_model* model, ernie_progress_fn progress, void* user_data) {
  return guarded("ernie_model_verify", [&] {
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_model_verify: model is NULL");
    const PackedFile& f = model->impl->file();
    uint64_t total = 0, done = 0;
    for (const auto& t : f.tensors()) total += t.size;
    for (const auto& t : f.tensors()) {
      f.verify_tensor(t);
      done += t.size;
      if (progress && progress(user_data, total ? static_cast<float>(done) / static_cast<float>(total) : 1.0f)) {
        ERNIE_FAIL(ERNIE_E_CANCELLED, "ernie_model_verify: cancelled");
      }
    }
  });
}

ERNIE_API ernie_status ernie_model_get_info(const ernie_model* model, ernie_model_info* info) {
  return guarded("ernie_model_get_info", [&] {
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_model_get_info: model is NULL");
    ERNIE_REQUIRE_ARG(info, "ernie_model_get_info: info is NULL");
    ERNIE_REQUIRE_ARG(info->struct_size >= sizeof(size_t) && info->struct_size <= (1u << 16),
                      "ernie_model_get_info: info->struct_size %zu is invalid", info->struct_size);
    const Model& m = *model->impl;
    const ModelConfig& c = m.config();
    ernie_model_info r{};
    r.struct_size = info->struct_size < sizeof(r) ? info->struct_size : sizeof(r);
    r.arch = c.is_moe ? ERNIE_ARCH_MOE : ERNIE_ARCH_DENSE;
    r.n_layers = static_cast<int32_t>(c.num_layers);
    r.hidden_size = static_cast<int32_t>(c.hidden_size);
    r.intermediate_size = static_cast<int32_t>(c.intermediate_size);
    r.moe_intermediate_size = static_cast<int32_t>(c.moe_intermediate_size);
    r.n_heads = static_cast<int32_t>(c.n_heads);
    r.n_kv_heads = static_cast<int32_t>(c.n_kv_heads);
    r.head_dim = static_cast<int32_t>(c.head_dim);
    r.n_experts = static_cast<int32_t>(c.moe_num_experts);
    r.n_experts_used = static_cast<int32_t>(c.moe_k);
    r.n_shared_experts = static_cast<int32_t>(c.moe_num_shared_experts);
    r.n_moe_layers = static_cast<int32_t>(c.is_moe ? c.n_moe_layers() : 0);
    r.vocab_size = static_cast<int32_t>(c.vocab_size);
    r.n_tokenizer_vocab = m.tokenizer().n_pieces();
    r.max_context = static_cast<int32_t>(c.max_position_embeddings);
    r.bos_id = static_cast<int32_t>(c.bos_id);
    r.eos_id = static_cast<int32_t>(c.eos_id);
    r.pad_id = static_cast<int32_t>(c.pad_id);
    r.tied_embeddings = c.tie_word_embeddings ? 1 : 0;
    r.rope_theta = static_cast<float>(c.rope_theta);
    r.rms_norm_eps = static_cast<float>(c.rms_norm_eps);
    r.n_params = m.weights().n_params;
    r.weight_bytes = m.weights().bytes;
    const KvType kv = m.weights().default_kv_type();
    r.kv_bytes_per_token = m.runtime().state_bytes(2, 1, kv) - m.runtime().state_bytes(1, 1, kv);
    r.file_bytes = m.file().file_size();
    r.n_tensors = static_cast<int32_t>(m.file().tensors().size());
    std::memcpy(static_cast<void*>(info), &r, r.struct_size);
  });
}

ERNIE_API ernie_status ernie_model_metadata(const ernie_model* model, const char** out_json) {
  return guarded("ernie_model_metadata", [&] {
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_model_metadata: model is NULL");
    ERNIE_REQUIRE_ARG(out_json, "ernie_model_metadata: out_json is NULL");
    *out_json = model->impl->file().metadata_text().c_str();
  });
}

ERNIE_API ernie_status ernie_model_session_bytes(const ernie_model* model, int32_t n_ctx, int32_t n_batch,
                                                 uint64_t* out_bytes) {
  return guarded("ernie_model_session_bytes", [&] {
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_model_session_bytes: model is NULL");
    ERNIE_REQUIRE_ARG(out_bytes, "ernie_model_session_bytes: out_bytes is NULL");
    ERNIE_REQUIRE_ARG(n_ctx > 0 && n_batch > 0, "ernie_model_session_bytes: n_ctx and n_batch must be positive");
    const Model& m = *model->impl;
    // The same sum a session takes from the session memory budget.
    *out_bytes = m.runtime().state_bytes(n_ctx, n_batch < n_ctx ? n_batch : n_ctx, m.weights().default_kv_type()) +
                 static_cast<uint64_t>(m.config().vocab_size) * sizeof(float);
  });
}

}  // extern "C"
