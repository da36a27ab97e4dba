//! The sizes and field offsets of this crate's struct mirrors, in the shape of
//! the library's `ernie_abi_info` table (field names as the C header spells
//! them), so the two can be compared row by row.
use std::mem::{size_of, MaybeUninit};
use std::ptr::addr_of;

use crate::*;

/// One row: a struct's size (`field_name` is `None`) or one field's offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorEntry {
    pub struct_name: &'static str,
    pub field_name: Option<&'static str>,
    pub value: u64,
}

/// `std::mem::offset_of!` without needing Rust 1.77 (Debian 12 ships 1.63):
/// the field's address minus the struct's, on an uninitialized value that is
/// never read.
macro_rules! offset_of {
    ($s:ident, $f:ident) => {{
        let value = MaybeUninit::<$s>::uninit();
        let base = value.as_ptr();
        // SAFETY: addr_of! computes the address without reading or referencing.
        let field = unsafe { addr_of!((*base).$f) };
        (field as usize - base as usize) as u64
    }};
}

macro_rules! mirror_rows {
    ($($s:ident { $($f:ident $(as $c:literal)?),* $(,)? })*) => {
        vec![$(
            MirrorEntry { struct_name: stringify!($s), field_name: None, value: size_of::<$s>() as u64 },
            $(MirrorEntry {
                struct_name: stringify!($s),
                field_name: Some(mirror_rows!(@name $f $($c)?)),
                value: offset_of!($s, $f),
            },)*
        )*]
    };
    (@name $f:ident $c:literal) => { $c };
    (@name $f:ident) => { stringify!($f) };
}

/// Every struct this crate mirrors, every field.
pub fn mirror_layout() -> Vec<MirrorEntry> {
    mirror_rows! {
        ernie_abi_entry { struct_name, field_name, value }
        ernie_model_params {
            struct_size, n_threads, use_mmap, backend, progress, progress_user_data, log, log_user_data, log_level,
            max_file_bytes, session_memory_budget, max_context,
        }
        ernie_model_info {
            struct_size, arch, n_layers, hidden_size, intermediate_size, moe_intermediate_size, n_heads, n_kv_heads,
            head_dim, n_experts, n_experts_used, n_shared_experts, n_moe_layers, vocab_size, n_tokenizer_vocab,
            max_context, bos_id, eos_id, pad_id, tied_embeddings, rope_theta, rms_norm_eps, n_params, weight_bytes,
            kv_bytes_per_token, file_bytes, n_tensors,
        }
        ernie_session_params { struct_size, n_ctx, n_batch, n_threads, kv_type }
        ernie_sampling_params {
            struct_size, temperature, top_k, top_p, min_p, repetition_penalty, presence_penalty, frequency_penalty,
            penalty_window, seed, logit_bias_tokens, logit_bias_values, n_logit_bias,
        }
        ernie_token_logprob { token, logprob }
        ernie_event {
            struct_size, type_ as "type", text, text_len, token, logprob, top_logprobs, n_top_logprobs, tool_call,
        }
        ernie_generate_params {
            struct_size, sampling, max_tokens, stop_strings, n_stop_strings, stop_tokens, n_stop_tokens, n_logprobs,
            n_threads, reasoning, reasoning_budget, on_event, user_data, response_schema_json, on_tool_call,
            tool_user_data, max_tool_rounds,
        }
        ernie_generate_result {
            struct_size, finish_reason, n_prompt_tokens, n_cached_tokens, n_generated_tokens, n_reasoning_tokens, text,
            reasoning, tokens, n_tokens, tool_calls, n_tool_calls, n_invalid_tool_calls, messages_json,
        }
        ernie_tool_call { struct_size, id, name, arguments_json }
        ernie_message { struct_size, role, content, reasoning, tool_calls, n_tool_calls, tool_call_id }
        ernie_tool { struct_size, name, description, parameters_json }
        ernie_chat_params {
            struct_size, format, tools_json, system_settings, add_generation_prompt, tools, n_tools, tool_choice,
            tool_choice_name, parallel_tool_calls,
        }
        ernie_pack_params { struct_size, type_ as "type", n_threads, progress, progress_user_data, log, log_user_data }
    }
}
