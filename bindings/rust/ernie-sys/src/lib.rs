//! Raw declarations of `include/ernie.h` (ABI version 1), written by hand.
//!
//! Every struct is a `#[repr(C)]` mirror of the header's. [`mirror_layout`]
//! lists their sizes and field offsets as this crate sees them; the safe
//! `ernie` crate compares it with the library's own table
//! (`ernie_abi_info`) before its first call, so a stale mirror fails loudly.
//! Ownership and threading rules are the header's; read it before using
//! these functions directly.
#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_void};

mod layout;
pub use layout::{mirror_layout, MirrorEntry};

/// The ABI version these declarations were written for.
pub const ERNIE_ABI_VERSION: u32 = 1;

pub type ernie_status = i32;
pub const ERNIE_OK: ernie_status = 0;
pub const ERNIE_E_INVALID_ARGUMENT: ernie_status = 1;
pub const ERNIE_E_IO: ernie_status = 2;
pub const ERNIE_E_INVALID_MODEL: ernie_status = 3;
pub const ERNIE_E_CHECKSUM: ernie_status = 4;
pub const ERNIE_E_UNSUPPORTED: ernie_status = 5;
pub const ERNIE_E_OUT_OF_MEMORY: ernie_status = 6;
pub const ERNIE_E_CANCELLED: ernie_status = 7;
pub const ERNIE_E_CONTEXT_FULL: ernie_status = 8;
pub const ERNIE_E_BUFFER_TOO_SMALL: ernie_status = 9;
pub const ERNIE_E_BACKEND: ernie_status = 10;
pub const ERNIE_E_INTERNAL: ernie_status = 11;

pub const ERNIE_LOG_ERROR: i32 = 0;
pub const ERNIE_LOG_WARN: i32 = 1;
pub const ERNIE_LOG_INFO: i32 = 2;
pub const ERNIE_LOG_DEBUG: i32 = 3;

pub const ERNIE_ARCH_MOE: i32 = 1;
pub const ERNIE_ARCH_DENSE: i32 = 2;

pub const ERNIE_KV_AUTO: i32 = 0;
pub const ERNIE_KV_F32: i32 = 1;
pub const ERNIE_KV_F16: i32 = 2;

pub const ERNIE_TOKENIZE_PARSE_SPECIAL: u32 = 1;
pub const ERNIE_EVAL_ALL_LOGITS: u32 = 1;

pub const ERNIE_EVENT_TEXT: i32 = 1;
pub const ERNIE_EVENT_REASONING: i32 = 2;
pub const ERNIE_EVENT_TOOL_CALL: i32 = 3;

pub const ERNIE_TOOL_RESULT: i32 = 0;
pub const ERNIE_TOOL_DEFER: i32 = 1;

pub const ERNIE_FINISH_STOP_TOKEN: i32 = 1;
pub const ERNIE_FINISH_STOP_STRING: i32 = 2;
pub const ERNIE_FINISH_LENGTH: i32 = 3;
pub const ERNIE_FINISH_CONTEXT_FULL: i32 = 4;
pub const ERNIE_FINISH_CANCELLED: i32 = 5;
pub const ERNIE_FINISH_ERROR: i32 = 6;
pub const ERNIE_FINISH_TOOL_CALLS: i32 = 7;

pub const ERNIE_REASONING_AUTO: i32 = 0;
pub const ERNIE_REASONING_OFF: i32 = 1;

pub const ERNIE_TOOL_CHOICE_AUTO: i32 = 0;
pub const ERNIE_TOOL_CHOICE_NONE: i32 = 1;
pub const ERNIE_TOOL_CHOICE_REQUIRED: i32 = 2;
pub const ERNIE_TOOL_CHOICE_NAMED: i32 = 3;

pub const ERNIE_TYPE_AUTO: i32 = 0;
pub const ERNIE_TYPE_F32: i32 = 1;
pub const ERNIE_TYPE_F16: i32 = 2;
pub const ERNIE_TYPE_BF16: i32 = 3;
pub const ERNIE_TYPE_Q8: i32 = 16;
pub const ERNIE_TYPE_Q6: i32 = 17;
pub const ERNIE_TYPE_Q4: i32 = 18;
pub const ERNIE_TYPE_Q2: i32 = 19;

/// An opaque C handle: only ever used behind a pointer.
macro_rules! opaque {
    ($name:ident) => {
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    };
}
opaque!(ernie_model);
opaque!(ernie_session);
opaque!(ernie_tool_output);

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_abi_entry {
    pub struct_name: *const c_char,
    pub field_name: *const c_char,
    pub value: u64,
}

pub type ernie_log_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, level: i32, message: *const c_char)>;
pub type ernie_progress_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, progress: f32) -> i32>;
pub type ernie_event_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const ernie_event) -> i32>;
pub type ernie_tool_fn = Option<
    unsafe extern "C" fn(user_data: *mut c_void, call: *const ernie_tool_call, output: *mut ernie_tool_output) -> i32,
>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_model_params {
    pub struct_size: usize,
    pub n_threads: i32,
    pub use_mmap: i32,
    pub backend: *const c_char,
    pub progress: ernie_progress_fn,
    pub progress_user_data: *mut c_void,
    pub log: ernie_log_fn,
    pub log_user_data: *mut c_void,
    pub log_level: i32,
    pub max_file_bytes: u64,
    pub session_memory_budget: u64,
    pub max_context: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ernie_model_info {
    pub struct_size: usize,
    pub arch: i32,
    pub n_layers: i32,
    pub hidden_size: i32,
    pub intermediate_size: i32,
    pub moe_intermediate_size: i32,
    pub n_heads: i32,
    pub n_kv_heads: i32,
    pub head_dim: i32,
    pub n_experts: i32,
    pub n_experts_used: i32,
    pub n_shared_experts: i32,
    pub n_moe_layers: i32,
    pub vocab_size: i32,
    pub n_tokenizer_vocab: i32,
    pub max_context: i32,
    pub bos_id: i32,
    pub eos_id: i32,
    pub pad_id: i32,
    pub tied_embeddings: i32,
    pub rope_theta: f32,
    pub rms_norm_eps: f32,
    pub n_params: u64,
    pub weight_bytes: u64,
    pub kv_bytes_per_token: u64,
    pub file_bytes: u64,
    pub n_tensors: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_session_params {
    pub struct_size: usize,
    pub n_ctx: i32,
    pub n_batch: i32,
    pub n_threads: i32,
    pub kv_type: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_sampling_params {
    pub struct_size: usize,
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub repetition_penalty: f32,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    pub penalty_window: i32,
    pub seed: u64,
    pub logit_bias_tokens: *const i32,
    pub logit_bias_values: *const f32,
    pub n_logit_bias: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ernie_token_logprob {
    pub token: i32,
    pub logprob: f32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_tool_call {
    pub struct_size: usize,
    pub id: *const c_char,
    pub name: *const c_char,
    pub arguments_json: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_event {
    pub struct_size: usize,
    pub type_: i32,
    pub text: *const c_char,
    pub text_len: usize,
    pub token: i32,
    pub logprob: f32,
    pub top_logprobs: *const ernie_token_logprob,
    pub n_top_logprobs: usize,
    pub tool_call: *const ernie_tool_call,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_generate_params {
    pub struct_size: usize,
    pub sampling: *const ernie_sampling_params,
    pub max_tokens: i32,
    pub stop_strings: *const *const c_char,
    pub n_stop_strings: usize,
    pub stop_tokens: *const i32,
    pub n_stop_tokens: usize,
    pub n_logprobs: i32,
    pub n_threads: i32,
    pub reasoning: i32,
    pub reasoning_budget: i32,
    pub on_event: ernie_event_fn,
    pub user_data: *mut c_void,
    pub response_schema_json: *const c_char,
    pub on_tool_call: ernie_tool_fn,
    pub tool_user_data: *mut c_void,
    pub max_tool_rounds: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_generate_result {
    pub struct_size: usize,
    pub finish_reason: i32,
    pub n_prompt_tokens: i32,
    pub n_cached_tokens: i32,
    pub n_generated_tokens: i32,
    pub n_reasoning_tokens: i32,
    pub text: *const c_char,
    pub reasoning: *const c_char,
    pub tokens: *const i32,
    pub n_tokens: usize,
    pub tool_calls: *const ernie_tool_call,
    pub n_tool_calls: usize,
    pub n_invalid_tool_calls: i32,
    pub messages_json: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_message {
    pub struct_size: usize,
    pub role: *const c_char,
    pub content: *const c_char,
    pub reasoning: *const c_char,
    pub tool_calls: *const ernie_tool_call,
    pub n_tool_calls: usize,
    pub tool_call_id: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_tool {
    pub struct_size: usize,
    pub name: *const c_char,
    pub description: *const c_char,
    pub parameters_json: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_chat_params {
    pub struct_size: usize,
    pub format: *const c_char,
    pub tools_json: *const c_char,
    pub system_settings: *const c_char,
    pub add_generation_prompt: i32,
    pub tools: *const ernie_tool,
    pub n_tools: usize,
    pub tool_choice: i32,
    pub tool_choice_name: *const c_char,
    pub parallel_tool_calls: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ernie_pack_params {
    pub struct_size: usize,
    pub type_: i32,
    pub n_threads: i32,
    pub progress: ernie_progress_fn,
    pub progress_user_data: *mut c_void,
    pub log: ernie_log_fn,
    pub log_user_data: *mut c_void,
}

extern "C" {
    pub fn ernie_version() -> u32;
    pub fn ernie_version_string() -> *const c_char;
    pub fn ernie_abi_version() -> u32;
    pub fn ernie_abi_info(out_entries: *mut *const ernie_abi_entry, out_count: *mut usize) -> i32;

    pub fn ernie_status_string(status: ernie_status) -> *const c_char;
    pub fn ernie_last_error() -> *const c_char;

    /// ABI 1.0 entry point: fills the 1.0 struct only; use the _sized one.
    pub fn ernie_model_params_init(params: *mut ernie_model_params);
    pub fn ernie_model_params_init_sized(params: *mut ernie_model_params, struct_size: usize);
    pub fn ernie_model_load(
        path: *const c_char,
        params: *const ernie_model_params,
        out_model: *mut *mut ernie_model,
    ) -> ernie_status;
    pub fn ernie_model_free(model: *mut ernie_model);
    pub fn ernie_model_verify(
        model: *const ernie_model,
        progress: ernie_progress_fn,
        user_data: *mut c_void,
    ) -> ernie_status;
    pub fn ernie_model_get_info(model: *const ernie_model, info: *mut ernie_model_info) -> ernie_status;
    pub fn ernie_model_metadata(model: *const ernie_model, out_json: *mut *const c_char) -> ernie_status;
    pub fn ernie_model_session_bytes(
        model: *const ernie_model,
        n_ctx: i32,
        n_batch: i32,
        out_bytes: *mut u64,
    ) -> ernie_status;

    pub fn ernie_tokenize(
        model: *const ernie_model,
        text: *const c_char,
        text_len: usize,
        flags: u32,
        out_ids: *mut i32,
        capacity: usize,
        out_count: *mut usize,
    ) -> ernie_status;
    pub fn ernie_detokenize(
        model: *const ernie_model,
        ids: *const i32,
        n_ids: usize,
        out_text: *mut c_char,
        capacity: usize,
        out_len: *mut usize,
    ) -> ernie_status;

    /// ABI 1.0 entry point: fills the 1.0 struct only; use the _sized one.
    pub fn ernie_session_params_init(params: *mut ernie_session_params);
    pub fn ernie_session_params_init_sized(params: *mut ernie_session_params, struct_size: usize);
    pub fn ernie_session_create(
        model: *mut ernie_model,
        params: *const ernie_session_params,
        out_session: *mut *mut ernie_session,
    ) -> ernie_status;
    pub fn ernie_session_free(session: *mut ernie_session);
    pub fn ernie_session_eval(
        session: *mut ernie_session,
        tokens: *const i32,
        n_tokens: usize,
        flags: u32,
    ) -> ernie_status;
    pub fn ernie_session_logits(
        session: *mut ernie_session,
        index: i64,
        out_logits: *mut *const f32,
        out_n_vocab: *mut usize,
    ) -> ernie_status;
    pub fn ernie_session_n_past(session: *const ernie_session, out_n_past: *mut i64) -> ernie_status;
    pub fn ernie_session_truncate(session: *mut ernie_session, n_keep: i64) -> ernie_status;
    pub fn ernie_session_reset(session: *mut ernie_session) -> ernie_status;
    pub fn ernie_free(memory: *mut c_void);

    /// ABI 1.0 entry point: fills the 1.0 struct only; use the _sized one.
    pub fn ernie_sampling_params_init(params: *mut ernie_sampling_params);
    pub fn ernie_sampling_params_init_sized(params: *mut ernie_sampling_params, struct_size: usize);

    pub fn ernie_tool_output_set(output: *mut ernie_tool_output, text: *const c_char, len: usize) -> ernie_status;

    /// ABI 1.0 entry point: fills the 1.0 struct only; use the _sized one.
    pub fn ernie_generate_params_init(params: *mut ernie_generate_params);
    pub fn ernie_generate_params_init_sized(params: *mut ernie_generate_params, struct_size: usize);
    pub fn ernie_session_generate(
        session: *mut ernie_session,
        prompt: *const i32,
        n_prompt: usize,
        params: *const ernie_generate_params,
        result: *mut ernie_generate_result,
    ) -> ernie_status;
    pub fn ernie_session_cancel(session: *mut ernie_session) -> ernie_status;
    pub fn ernie_session_tokens(
        session: *const ernie_session,
        out_tokens: *mut *const i32,
        out_count: *mut usize,
    ) -> ernie_status;

    /// ABI 1.0 entry point: fills the 1.0 struct only; use the _sized one.
    pub fn ernie_chat_params_init(params: *mut ernie_chat_params);
    pub fn ernie_chat_params_init_sized(params: *mut ernie_chat_params, struct_size: usize);
    pub fn ernie_chat_render(
        model: *const ernie_model,
        messages: *const ernie_message,
        n_messages: usize,
        params: *const ernie_chat_params,
        out_text: *mut *mut c_char,
        out_len: *mut usize,
    ) -> ernie_status;
    pub fn ernie_chat_render_json(
        model: *const ernie_model,
        conversation_json: *const c_char,
        format: *const c_char,
        out_text: *mut *mut c_char,
        out_len: *mut usize,
    ) -> ernie_status;
    pub fn ernie_chat_parse(
        model: *const ernie_model,
        format: *const c_char,
        output: *const c_char,
        output_len: usize,
        out_json: *mut *mut c_char,
        out_len: *mut usize,
    ) -> ernie_status;
    pub fn ernie_session_chat(
        session: *mut ernie_session,
        messages: *const ernie_message,
        n_messages: usize,
        chat: *const ernie_chat_params,
        params: *const ernie_generate_params,
        result: *mut ernie_generate_result,
    ) -> ernie_status;
    pub fn ernie_session_chat_json(
        session: *mut ernie_session,
        conversation_json: *const c_char,
        format: *const c_char,
        params: *const ernie_generate_params,
        result: *mut ernie_generate_result,
    ) -> ernie_status;

    pub fn ernie_session_save(
        session: *const ernie_session,
        out_blob: *mut *mut c_void,
        out_size: *mut usize,
    ) -> ernie_status;
    pub fn ernie_session_restore(session: *mut ernie_session, blob: *const c_void, size: usize) -> ernie_status;

    /// ABI 1.0 entry point: fills the 1.0 struct only; use the _sized one.
    pub fn ernie_pack_params_init(params: *mut ernie_pack_params);
    pub fn ernie_pack_params_init_sized(params: *mut ernie_pack_params, struct_size: usize);
    pub fn ernie_pack(hf_dir: *const c_char, out_path: *const c_char, params: *const ernie_pack_params)
        -> ernie_status;
}
