// Mirrors of the public structs of include/ernie.h, field for field and in
// the same order. Every field is blittable (pointers are IntPtr, size_t is
// UIntPtr), so the runtime passes them by address without copying and
// Marshal.OffsetOf gives the offsets AbiCheck compares with the library's
// table. Field names are the C names on purpose: AbiCheck matches by name.
using System;
using System.Runtime.InteropServices;

namespace Ernie.Native
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_abi_entry
    {
        public IntPtr struct_name;
        public IntPtr field_name;
        public ulong value;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_model_params
    {
        public UIntPtr struct_size;
        public int n_threads;
        public int use_mmap;
        public IntPtr backend;
        public IntPtr progress;
        public IntPtr progress_user_data;
        public IntPtr log;
        public IntPtr log_user_data;
        public int log_level;
        public ulong max_file_bytes;
        public ulong session_memory_budget;
        public int max_context;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_model_info
    {
        public UIntPtr struct_size;
        public int arch;
        public int n_layers;
        public int hidden_size;
        public int intermediate_size;
        public int moe_intermediate_size;
        public int n_heads;
        public int n_kv_heads;
        public int head_dim;
        public int n_experts;
        public int n_experts_used;
        public int n_shared_experts;
        public int n_moe_layers;
        public int vocab_size;
        public int n_tokenizer_vocab;
        public int max_context;
        public int bos_id;
        public int eos_id;
        public int pad_id;
        public int tied_embeddings;
        public float rope_theta;
        public float rms_norm_eps;
        public ulong n_params;
        public ulong weight_bytes;
        public ulong kv_bytes_per_token;
        public ulong file_bytes;
        public int n_tensors;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_session_params
    {
        public UIntPtr struct_size;
        public int n_ctx;
        public int n_batch;
        public int n_threads;
        public int kv_type;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_sampling_params
    {
        public UIntPtr struct_size;
        public float temperature;
        public int top_k;
        public float top_p;
        public float min_p;
        public float repetition_penalty;
        public float presence_penalty;
        public float frequency_penalty;
        public int penalty_window;
        public ulong seed;
        public IntPtr logit_bias_tokens;
        public IntPtr logit_bias_values;
        public UIntPtr n_logit_bias;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_token_logprob
    {
        public int token;
        public float logprob;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_event
    {
        public UIntPtr struct_size;
        public int type;
        public IntPtr text;
        public UIntPtr text_len;
        public int token;
        public float logprob;
        public IntPtr top_logprobs;
        public UIntPtr n_top_logprobs;
        public IntPtr tool_call;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_generate_params
    {
        public UIntPtr struct_size;
        public IntPtr sampling;
        public int max_tokens;
        public IntPtr stop_strings;
        public UIntPtr n_stop_strings;
        public IntPtr stop_tokens;
        public UIntPtr n_stop_tokens;
        public int n_logprobs;
        public int n_threads;
        public int reasoning;
        public int reasoning_budget;
        public IntPtr on_event;
        public IntPtr user_data;
        public IntPtr response_schema_json;
        public IntPtr on_tool_call;
        public IntPtr tool_user_data;
        public int max_tool_rounds;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_generate_result
    {
        public UIntPtr struct_size;
        public int finish_reason;
        public int n_prompt_tokens;
        public int n_cached_tokens;
        public int n_generated_tokens;
        public int n_reasoning_tokens;
        public IntPtr text;
        public IntPtr reasoning;
        public IntPtr tokens;
        public UIntPtr n_tokens;
        public IntPtr tool_calls;
        public UIntPtr n_tool_calls;
        public int n_invalid_tool_calls;
        public IntPtr messages_json;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_tool_call
    {
        public UIntPtr struct_size;
        public IntPtr id;
        public IntPtr name;
        public IntPtr arguments_json;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_message
    {
        public UIntPtr struct_size;
        public IntPtr role;
        public IntPtr content;
        public IntPtr reasoning;
        public IntPtr tool_calls;
        public UIntPtr n_tool_calls;
        public IntPtr tool_call_id;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_tool
    {
        public UIntPtr struct_size;
        public IntPtr name;
        public IntPtr description;
        public IntPtr parameters_json;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_chat_params
    {
        public UIntPtr struct_size;
        public IntPtr format;
        public IntPtr tools_json;
        public IntPtr system_settings;
        public int add_generation_prompt;
        public IntPtr tools;
        public UIntPtr n_tools;
        public int tool_choice;
        public IntPtr tool_choice_name;
        public int parallel_tool_calls;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ernie_pack_params
    {
        public UIntPtr struct_size;
        public int type;
        public int n_threads;
        public IntPtr progress;
        public IntPtr progress_user_data;
        public IntPtr log;
        public IntPtr log_user_data;
    }

    /// <summary>Every mirrored struct, for AbiCheck.</summary>
    internal static class MirroredStructs
    {
        public static readonly Type[] All =
        {
            typeof(ernie_abi_entry), typeof(ernie_model_params), typeof(ernie_model_info),
            typeof(ernie_session_params), typeof(ernie_sampling_params), typeof(ernie_token_logprob),
            typeof(ernie_event), typeof(ernie_generate_params), typeof(ernie_generate_result),
            typeof(ernie_tool_call), typeof(ernie_message), typeof(ernie_tool), typeof(ernie_chat_params),
            typeof(ernie_pack_params),
        };
    }
}
