// Versions, status names and the public struct layout table.
#include <cstddef>

#include "ernie.h"

namespace {

#define ERNIE_ABI_SIZE(S) {#S, nullptr, sizeof(S)}
#define ERNIE_ABI_FIELD(S, F) {#S, #F, offsetof(S, F)}

const ernie_abi_entry kAbiTable[] = {
    ERNIE_ABI_SIZE(ernie_abi_entry),
    ERNIE_ABI_FIELD(ernie_abi_entry, struct_name),
    ERNIE_ABI_FIELD(ernie_abi_entry, field_name),
    ERNIE_ABI_FIELD(ernie_abi_entry, value),

    ERNIE_ABI_SIZE(ernie_model_params),
    ERNIE_ABI_FIELD(ernie_model_params, struct_size),
    ERNIE_ABI_FIELD(ernie_model_params, n_threads),
    ERNIE_ABI_FIELD(ernie_model_params, use_mmap),
    ERNIE_ABI_FIELD(ernie_model_params, backend),
    ERNIE_ABI_FIELD(ernie_model_params, progress),
    ERNIE_ABI_FIELD(ernie_model_params, progress_user_data),
    ERNIE_ABI_FIELD(ernie_model_params, log),
    ERNIE_ABI_FIELD(ernie_model_params, log_user_data),
    ERNIE_ABI_FIELD(ernie_model_params, log_level),
    ERNIE_ABI_FIELD(ernie_model_params, max_context),
    ERNIE_ABI_FIELD(ernie_model_params, max_file_bytes),
    ERNIE_ABI_FIELD(ernie_model_params, session_memory_budget),

    ERNIE_ABI_SIZE(ernie_model_info),
    ERNIE_ABI_FIELD(ernie_model_info, struct_size),
    ERNIE_ABI_FIELD(ernie_model_info, arch),
    ERNIE_ABI_FIELD(ernie_model_info, n_layers),
    ERNIE_ABI_FIELD(ernie_model_info, hidden_size),
    ERNIE_ABI_FIELD(ernie_model_info, intermediate_size),
    ERNIE_ABI_FIELD(ernie_model_info, moe_intermediate_size),
    ERNIE_ABI_FIELD(ernie_model_info, n_heads),
    ERNIE_ABI_FIELD(ernie_model_info, n_kv_heads),
    ERNIE_ABI_FIELD(ernie_model_info, head_dim),
    ERNIE_ABI_FIELD(ernie_model_info, n_experts),
    ERNIE_ABI_FIELD(ernie_model_info, n_experts_used),
    ERNIE_ABI_FIELD(ernie_model_info, n_shared_experts),
    ERNIE_ABI_FIELD(ernie_model_info, n_moe_layers),
    ERNIE_ABI_FIELD(ernie_model_info, vocab_size),
    ERNIE_ABI_FIELD(ernie_model_info, n_tokenizer_vocab),
    ERNIE_ABI_FIELD(ernie_model_info, max_context),
    ERNIE_ABI_FIELD(ernie_model_info, bos_id),
    ERNIE_ABI_FIELD(ernie_model_info, eos_id),
    ERNIE_ABI_FIELD(ernie_model_info, pad_id),
    ERNIE_ABI_FIELD(ernie_model_info, tied_embeddings),
    ERNIE_ABI_FIELD(ernie_model_info, rope_theta),
    ERNIE_ABI_FIELD(ernie_model_info, rms_norm_eps),
    ERNIE_ABI_FIELD(ernie_model_info, n_params),
    ERNIE_ABI_FIELD(ernie_model_info, weight_bytes),
    ERNIE_ABI_FIELD(ernie_model_info, kv_bytes_per_token),
    ERNIE_ABI_FIELD(ernie_model_info, file_bytes),
    ERNIE_ABI_FIELD(ernie_model_info, n_tensors),

    ERNIE_ABI_SIZE(ernie_session_params),
    ERNIE_ABI_FIELD(ernie_session_params, struct_size),
    ERNIE_ABI_FIELD(ernie_session_params, n_ctx),
    ERNIE_ABI_FIELD(ernie_session_params, n_batch),
    ERNIE_ABI_FIELD(ernie_session_params, n_threads),
    ERNIE_ABI_FIELD(ernie_session_params, kv_type),

    ERNIE_ABI_SIZE(ernie_sampling_params),
    ERNIE_ABI_FIELD(ernie_sampling_params, struct_size),
    ERNIE_ABI_FIELD(ernie_sampling_params, temperature),
    ERNIE_ABI_FIELD(ernie_sampling_params, top_k),
    ERNIE_ABI_FIELD(ernie_sampling_params, top_p),
    ERNIE_ABI_FIELD(ernie_sampling_params, min_p),
    ERNIE_ABI_FIELD(ernie_sampling_params, repetition_penalty),
    ERNIE_ABI_FIELD(ernie_sampling_params, presence_penalty),
    ERNIE_ABI_FIELD(ernie_sampling_params, frequency_penalty),
    ERNIE_ABI_FIELD(ernie_sampling_params, penalty_window),
    ERNIE_ABI_FIELD(ernie_sampling_params, seed),
    ERNIE_ABI_FIELD(ernie_sampling_params, logit_bias_tokens),
    ERNIE_ABI_FIELD(ernie_sampling_params, logit_bias_values),
    ERNIE_ABI_FIELD(ernie_sampling_params, n_logit_bias),

    ERNIE_ABI_SIZE(ernie_token_logprob),
    ERNIE_ABI_FIELD(ernie_token_logprob, token),
    ERNIE_ABI_FIELD(ernie_token_logprob, logprob),

    ERNIE_ABI_SIZE(ernie_event),
    ERNIE_ABI_FIELD(ernie_event, struct_size),
    ERNIE_ABI_FIELD(ernie_event, type),
    ERNIE_ABI_FIELD(ernie_event, text),
    ERNIE_ABI_FIELD(ernie_event, text_len),
    ERNIE_ABI_FIELD(ernie_event, token),
    ERNIE_ABI_FIELD(ernie_event, logprob),
    ERNIE_ABI_FIELD(ernie_event, top_logprobs),
    ERNIE_ABI_FIELD(ernie_event, n_top_logprobs),
    ERNIE_ABI_FIELD(ernie_event, tool_call),

    ERNIE_ABI_SIZE(ernie_generate_params),
    ERNIE_ABI_FIELD(ernie_generate_params, struct_size),
    ERNIE_ABI_FIELD(ernie_generate_params, sampling),
    ERNIE_ABI_FIELD(ernie_generate_params, max_tokens),
    ERNIE_ABI_FIELD(ernie_generate_params, stop_strings),
    ERNIE_ABI_FIELD(ernie_generate_params, n_stop_strings),
    ERNIE_ABI_FIELD(ernie_generate_params, stop_tokens),
    ERNIE_ABI_FIELD(ernie_generate_params, n_stop_tokens),
    ERNIE_ABI_FIELD(ernie_generate_params, n_logprobs),
    ERNIE_ABI_FIELD(ernie_generate_params, n_threads),
    ERNIE_ABI_FIELD(ernie_generate_params, reasoning),
    ERNIE_ABI_FIELD(ernie_generate_params, reasoning_budget),
    ERNIE_ABI_FIELD(ernie_generate_params, on_event),
    ERNIE_ABI_FIELD(ernie_generate_params, user_data),
    ERNIE_ABI_FIELD(ernie_generate_params, response_schema_json),
    ERNIE_ABI_FIELD(ernie_generate_params, on_tool_call),
    ERNIE_ABI_FIELD(ernie_generate_params, tool_user_data),
    ERNIE_ABI_FIELD(ernie_generate_params, max_tool_rounds),

    ERNIE_ABI_SIZE(ernie_generate_result),
    ERNIE_ABI_FIELD(ernie_generate_result, struct_size),
    ERNIE_ABI_FIELD(ernie_generate_result, finish_reason),
    ERNIE_ABI_FIELD(ernie_generate_result, n_prompt_tokens),
    ERNIE_ABI_FIELD(ernie_generate_result, n_cached_tokens),
    ERNIE_ABI_FIELD(ernie_generate_result, n_generated_tokens),
    ERNIE_ABI_FIELD(ernie_generate_result, n_reasoning_tokens),
    ERNIE_ABI_FIELD(ernie_generate_result, text),
    ERNIE_ABI_FIELD(ernie_generate_result, reasoning),
    ERNIE_ABI_FIELD(ernie_generate_result, tokens),
    ERNIE_ABI_FIELD(ernie_generate_result, n_tokens),
    ERNIE_ABI_FIELD(ernie_generate_result, tool_calls),
    ERNIE_ABI_FIELD(ernie_generate_result, n_tool_calls),
    ERNIE_ABI_FIELD(ernie_generate_result, n_invalid_tool_calls),
    ERNIE_ABI_FIELD(ernie_generate_result, messages_json),

    ERNIE_ABI_SIZE(ernie_tool_call),
    ERNIE_ABI_FIELD(ernie_tool_call, struct_size),
    ERNIE_ABI_FIELD(ernie_tool_call, id),
    ERNIE_ABI_FIELD(ernie_tool_call, name),
    ERNIE_ABI_FIELD(ernie_tool_call, arguments_json),

    ERNIE_ABI_SIZE(ernie_message),
    ERNIE_ABI_FIELD(ernie_message, struct_size),
    ERNIE_ABI_FIELD(ernie_message, role),
    ERNIE_ABI_FIELD(ernie_message, content),
    ERNIE_ABI_FIELD(ernie_message, reasoning),
    ERNIE_ABI_FIELD(ernie_message, tool_calls),
    ERNIE_ABI_FIELD(ernie_message, n_tool_calls),
    ERNIE_ABI_FIELD(ernie_message, tool_call_id),

    ERNIE_ABI_SIZE(ernie_tool),
    ERNIE_ABI_FIELD(ernie_tool, struct_size),
    ERNIE_ABI_FIELD(ernie_tool, name),
    ERNIE_ABI_FIELD(ernie_tool, description),
    ERNIE_ABI_FIELD(ernie_tool, parameters_json),

    ERNIE_ABI_SIZE(ernie_chat_params),
    ERNIE_ABI_FIELD(ernie_chat_params, struct_size),
    ERNIE_ABI_FIELD(ernie_chat_params, format),
    ERNIE_ABI_FIELD(ernie_chat_params, tools_json),
    ERNIE_ABI_FIELD(ernie_chat_params, system_settings),
    ERNIE_ABI_FIELD(ernie_chat_params, add_generation_prompt),
    ERNIE_ABI_FIELD(ernie_chat_params, tools),
    ERNIE_ABI_FIELD(ernie_chat_params, n_tools),
    ERNIE_ABI_FIELD(ernie_chat_params, tool_choice),
    ERNIE_ABI_FIELD(ernie_chat_params, tool_choice_name),
    ERNIE_ABI_FIELD(ernie_chat_params, parallel_tool_calls),

    ERNIE_ABI_SIZE(ernie_pack_params),
    ERNIE_ABI_FIELD(ernie_pack_params, struct_size),
    ERNIE_ABI_FIELD(ernie_pack_params, type),
    ERNIE_ABI_FIELD(ernie_pack_params, n_threads),
    ERNIE_ABI_FIELD(ernie_pack_params, progress),
    ERNIE_ABI_FIELD(ernie_pack_params, progress_user_data),
    ERNIE_ABI_FIELD(ernie_pack_params, log),
    ERNIE_ABI_FIELD(ernie_pack_params, log_user_data),
};

}  // namespace

extern "C" {

ERNIE_API uint32_t ernie_version(void) {
  return ERNIE_VERSION_MAJOR * 10000 + ERNIE_VERSION_MINOR * 100 + ERNIE_VERSION_PATCH;
}

ERNIE_API const char* ernie_version_string(void) { return ERNIE_VERSION_STRING; }

ERNIE_API uint32_t ernie_abi_version(void) { return ERNIE_ABI_VERSION; }

ERNIE_API int32_t ernie_abi_info(const ernie_abi_entry** out_entries, size_t* out_count) {
  if (!out_entries || !out_count) return ERNIE_E_INVALID_ARGUMENT;
  *out_entries = kAbiTable;
  *out_count = sizeof(kAbiTable) / sizeof(kAbiTable[0]);
  return ERNIE_OK;
}

ERNIE_API const char* ernie_status_string(ernie_status status) {
  switch (status) {
    case ERNIE_OK: return "ERNIE_OK: success";
    case ERNIE_E_INVALID_ARGUMENT: return "ERNIE_E_INVALID_ARGUMENT: invalid argument";
    case ERNIE_E_IO: return "ERNIE_E_IO: input/output error";
    case ERNIE_E_INVALID_MODEL: return "ERNIE_E_INVALID_MODEL: invalid model file or checkpoint";
    case ERNIE_E_CHECKSUM: return "ERNIE_E_CHECKSUM: checksum mismatch";
    case ERNIE_E_UNSUPPORTED: return "ERNIE_E_UNSUPPORTED: unsupported";
    case ERNIE_E_OUT_OF_MEMORY: return "ERNIE_E_OUT_OF_MEMORY: out of memory";
    case ERNIE_E_CANCELLED: return "ERNIE_E_CANCELLED: cancelled";
    case ERNIE_E_CONTEXT_FULL: return "ERNIE_E_CONTEXT_FULL: context full";
    case ERNIE_E_BUFFER_TOO_SMALL: return "ERNIE_E_BUFFER_TOO_SMALL: buffer too small";
    case ERNIE_E_BACKEND: return "ERNIE_E_BACKEND: backend error";
    case ERNIE_E_INTERNAL: return "ERNIE_E_INTERNAL: internal error";
    default: return "unknown status";
  }
}

}  // extern "C"
