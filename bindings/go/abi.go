package ernie

/*
#include "ernie.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// abiEntry is one row of a layout table: a struct's size (field "") or the
// offset of one of its fields.
type abiEntry struct {
	structName, fieldName string
	value                 uint64
}

// abiVersion is the ABI version this package was written for.
const abiVersion = 1

// bindingLayout is every public struct as cgo compiled it from
// include/ernie.h: it must equal the library's own table, or the library
// and the header this package was built with have drifted apart.
var bindingLayout = []abiEntry{
	{"ernie_abi_entry", "", uint64(unsafe.Sizeof(C.ernie_abi_entry{}))},
	{"ernie_abi_entry", "struct_name", uint64(unsafe.Offsetof(C.ernie_abi_entry{}.struct_name))},
	{"ernie_abi_entry", "field_name", uint64(unsafe.Offsetof(C.ernie_abi_entry{}.field_name))},
	{"ernie_abi_entry", "value", uint64(unsafe.Offsetof(C.ernie_abi_entry{}.value))},
	{"ernie_model_params", "", uint64(unsafe.Sizeof(C.ernie_model_params{}))},
	{"ernie_model_params", "struct_size", uint64(unsafe.Offsetof(C.ernie_model_params{}.struct_size))},
	{"ernie_model_params", "n_threads", uint64(unsafe.Offsetof(C.ernie_model_params{}.n_threads))},
	{"ernie_model_params", "use_mmap", uint64(unsafe.Offsetof(C.ernie_model_params{}.use_mmap))},
	{"ernie_model_params", "backend", uint64(unsafe.Offsetof(C.ernie_model_params{}.backend))},
	{"ernie_model_params", "progress", uint64(unsafe.Offsetof(C.ernie_model_params{}.progress))},
	{"ernie_model_params", "progress_user_data", uint64(unsafe.Offsetof(C.ernie_model_params{}.progress_user_data))},
	{"ernie_model_params", "log", uint64(unsafe.Offsetof(C.ernie_model_params{}.log))},
	{"ernie_model_params", "log_user_data", uint64(unsafe.Offsetof(C.ernie_model_params{}.log_user_data))},
	{"ernie_model_params", "log_level", uint64(unsafe.Offsetof(C.ernie_model_params{}.log_level))},
	{"ernie_model_params", "max_file_bytes", uint64(unsafe.Offsetof(C.ernie_model_params{}.max_file_bytes))},
	{"ernie_model_params", "session_memory_budget", uint64(unsafe.Offsetof(C.ernie_model_params{}.session_memory_budget))},
	{"ernie_model_params", "max_context", uint64(unsafe.Offsetof(C.ernie_model_params{}.max_context))},
	{"ernie_model_info", "", uint64(unsafe.Sizeof(C.ernie_model_info{}))},
	{"ernie_model_info", "struct_size", uint64(unsafe.Offsetof(C.ernie_model_info{}.struct_size))},
	{"ernie_model_info", "arch", uint64(unsafe.Offsetof(C.ernie_model_info{}.arch))},
	{"ernie_model_info", "n_layers", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_layers))},
	{"ernie_model_info", "hidden_size", uint64(unsafe.Offsetof(C.ernie_model_info{}.hidden_size))},
	{"ernie_model_info", "intermediate_size", uint64(unsafe.Offsetof(C.ernie_model_info{}.intermediate_size))},
	{"ernie_model_info", "moe_intermediate_size", uint64(unsafe.Offsetof(C.ernie_model_info{}.moe_intermediate_size))},
	{"ernie_model_info", "n_heads", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_heads))},
	{"ernie_model_info", "n_kv_heads", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_kv_heads))},
	{"ernie_model_info", "head_dim", uint64(unsafe.Offsetof(C.ernie_model_info{}.head_dim))},
	{"ernie_model_info", "n_experts", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_experts))},
	{"ernie_model_info", "n_experts_used", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_experts_used))},
	{"ernie_model_info", "n_shared_experts", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_shared_experts))},
	{"ernie_model_info", "n_moe_layers", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_moe_layers))},
	{"ernie_model_info", "vocab_size", uint64(unsafe.Offsetof(C.ernie_model_info{}.vocab_size))},
	{"ernie_model_info", "n_tokenizer_vocab", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_tokenizer_vocab))},
	{"ernie_model_info", "max_context", uint64(unsafe.Offsetof(C.ernie_model_info{}.max_context))},
	{"ernie_model_info", "bos_id", uint64(unsafe.Offsetof(C.ernie_model_info{}.bos_id))},
	{"ernie_model_info", "eos_id", uint64(unsafe.Offsetof(C.ernie_model_info{}.eos_id))},
	{"ernie_model_info", "pad_id", uint64(unsafe.Offsetof(C.ernie_model_info{}.pad_id))},
	{"ernie_model_info", "tied_embeddings", uint64(unsafe.Offsetof(C.ernie_model_info{}.tied_embeddings))},
	{"ernie_model_info", "rope_theta", uint64(unsafe.Offsetof(C.ernie_model_info{}.rope_theta))},
	{"ernie_model_info", "rms_norm_eps", uint64(unsafe.Offsetof(C.ernie_model_info{}.rms_norm_eps))},
	{"ernie_model_info", "n_params", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_params))},
	{"ernie_model_info", "weight_bytes", uint64(unsafe.Offsetof(C.ernie_model_info{}.weight_bytes))},
	{"ernie_model_info", "kv_bytes_per_token", uint64(unsafe.Offsetof(C.ernie_model_info{}.kv_bytes_per_token))},
	{"ernie_model_info", "file_bytes", uint64(unsafe.Offsetof(C.ernie_model_info{}.file_bytes))},
	{"ernie_model_info", "n_tensors", uint64(unsafe.Offsetof(C.ernie_model_info{}.n_tensors))},
	{"ernie_session_params", "", uint64(unsafe.Sizeof(C.ernie_session_params{}))},
	{"ernie_session_params", "struct_size", uint64(unsafe.Offsetof(C.ernie_session_params{}.struct_size))},
	{"ernie_session_params", "n_ctx", uint64(unsafe.Offsetof(C.ernie_session_params{}.n_ctx))},
	{"ernie_session_params", "n_batch", uint64(unsafe.Offsetof(C.ernie_session_params{}.n_batch))},
	{"ernie_session_params", "n_threads", uint64(unsafe.Offsetof(C.ernie_session_params{}.n_threads))},
	{"ernie_session_params", "kv_type", uint64(unsafe.Offsetof(C.ernie_session_params{}.kv_type))},
	{"ernie_sampling_params", "", uint64(unsafe.Sizeof(C.ernie_sampling_params{}))},
	{"ernie_sampling_params", "struct_size", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.struct_size))},
	{"ernie_sampling_params", "temperature", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.temperature))},
	{"ernie_sampling_params", "top_k", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.top_k))},
	{"ernie_sampling_params", "top_p", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.top_p))},
	{"ernie_sampling_params", "min_p", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.min_p))},
	{"ernie_sampling_params", "repetition_penalty", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.repetition_penalty))},
	{"ernie_sampling_params", "presence_penalty", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.presence_penalty))},
	{"ernie_sampling_params", "frequency_penalty", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.frequency_penalty))},
	{"ernie_sampling_params", "penalty_window", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.penalty_window))},
	{"ernie_sampling_params", "seed", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.seed))},
	{"ernie_sampling_params", "logit_bias_tokens", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.logit_bias_tokens))},
	{"ernie_sampling_params", "logit_bias_values", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.logit_bias_values))},
	{"ernie_sampling_params", "n_logit_bias", uint64(unsafe.Offsetof(C.ernie_sampling_params{}.n_logit_bias))},
	{"ernie_token_logprob", "", uint64(unsafe.Sizeof(C.ernie_token_logprob{}))},
	{"ernie_token_logprob", "token", uint64(unsafe.Offsetof(C.ernie_token_logprob{}.token))},
	{"ernie_token_logprob", "logprob", uint64(unsafe.Offsetof(C.ernie_token_logprob{}.logprob))},
	{"ernie_event", "", uint64(unsafe.Sizeof(C.ernie_event{}))},
	{"ernie_event", "struct_size", uint64(unsafe.Offsetof(C.ernie_event{}.struct_size))},
	{"ernie_event", "type", uint64(unsafe.Offsetof(C.ernie_event{}._type))},
	{"ernie_event", "text", uint64(unsafe.Offsetof(C.ernie_event{}.text))},
	{"ernie_event", "text_len", uint64(unsafe.Offsetof(C.ernie_event{}.text_len))},
	{"ernie_event", "token", uint64(unsafe.Offsetof(C.ernie_event{}.token))},
	{"ernie_event", "logprob", uint64(unsafe.Offsetof(C.ernie_event{}.logprob))},
	{"ernie_event", "top_logprobs", uint64(unsafe.Offsetof(C.ernie_event{}.top_logprobs))},
	{"ernie_event", "n_top_logprobs", uint64(unsafe.Offsetof(C.ernie_event{}.n_top_logprobs))},
	{"ernie_event", "tool_call", uint64(unsafe.Offsetof(C.ernie_event{}.tool_call))},
	{"ernie_generate_params", "", uint64(unsafe.Sizeof(C.ernie_generate_params{}))},
	{"ernie_generate_params", "struct_size", uint64(unsafe.Offsetof(C.ernie_generate_params{}.struct_size))},
	{"ernie_generate_params", "sampling", uint64(unsafe.Offsetof(C.ernie_generate_params{}.sampling))},
	{"ernie_generate_params", "max_tokens", uint64(unsafe.Offsetof(C.ernie_generate_params{}.max_tokens))},
	{"ernie_generate_params", "stop_strings", uint64(unsafe.Offsetof(C.ernie_generate_params{}.stop_strings))},
	{"ernie_generate_params", "n_stop_strings", uint64(unsafe.Offsetof(C.ernie_generate_params{}.n_stop_strings))},
	{"ernie_generate_params", "stop_tokens", uint64(unsafe.Offsetof(C.ernie_generate_params{}.stop_tokens))},
	{"ernie_generate_params", "n_stop_tokens", uint64(unsafe.Offsetof(C.ernie_generate_params{}.n_stop_tokens))},
	{"ernie_generate_params", "n_logprobs", uint64(unsafe.Offsetof(C.ernie_generate_params{}.n_logprobs))},
	{"ernie_generate_params", "n_threads", uint64(unsafe.Offsetof(C.ernie_generate_params{}.n_threads))},
	{"ernie_generate_params", "reasoning", uint64(unsafe.Offsetof(C.ernie_generate_params{}.reasoning))},
	{"ernie_generate_params", "reasoning_budget", uint64(unsafe.Offsetof(C.ernie_generate_params{}.reasoning_budget))},
	{"ernie_generate_params", "on_event", uint64(unsafe.Offsetof(C.ernie_generate_params{}.on_event))},
	{"ernie_generate_params", "user_data", uint64(unsafe.Offsetof(C.ernie_generate_params{}.user_data))},
	{"ernie_generate_params", "response_schema_json", uint64(unsafe.Offsetof(C.ernie_generate_params{}.response_schema_json))},
	{"ernie_generate_params", "on_tool_call", uint64(unsafe.Offsetof(C.ernie_generate_params{}.on_tool_call))},
	{"ernie_generate_params", "tool_user_data", uint64(unsafe.Offsetof(C.ernie_generate_params{}.tool_user_data))},
	{"ernie_generate_params", "max_tool_rounds", uint64(unsafe.Offsetof(C.ernie_generate_params{}.max_tool_rounds))},
	{"ernie_generate_result", "", uint64(unsafe.Sizeof(C.ernie_generate_result{}))},
	{"ernie_generate_result", "struct_size", uint64(unsafe.Offsetof(C.ernie_generate_result{}.struct_size))},
	{"ernie_generate_result", "finish_reason", uint64(unsafe.Offsetof(C.ernie_generate_result{}.finish_reason))},
	{"ernie_generate_result", "n_prompt_tokens", uint64(unsafe.Offsetof(C.ernie_generate_result{}.n_prompt_tokens))},
	{"ernie_generate_result", "n_cached_tokens", uint64(unsafe.Offsetof(C.ernie_generate_result{}.n_cached_tokens))},
	{"ernie_generate_result", "n_generated_tokens", uint64(unsafe.Offsetof(C.ernie_generate_result{}.n_generated_tokens))},
	{"ernie_generate_result", "n_reasoning_tokens", uint64(unsafe.Offsetof(C.ernie_generate_result{}.n_reasoning_tokens))},
	{"ernie_generate_result", "text", uint64(unsafe.Offsetof(C.ernie_generate_result{}.text))},
	{"ernie_generate_result", "reasoning", uint64(unsafe.Offsetof(C.ernie_generate_result{}.reasoning))},
	{"ernie_generate_result", "tokens", uint64(unsafe.Offsetof(C.ernie_generate_result{}.tokens))},
	{"ernie_generate_result", "n_tokens", uint64(unsafe.Offsetof(C.ernie_generate_result{}.n_tokens))},
	{"ernie_generate_result", "tool_calls", uint64(unsafe.Offsetof(C.ernie_generate_result{}.tool_calls))},
	{"ernie_generate_result", "n_tool_calls", uint64(unsafe.Offsetof(C.ernie_generate_result{}.n_tool_calls))},
	{"ernie_generate_result", "n_invalid_tool_calls", uint64(unsafe.Offsetof(C.ernie_generate_result{}.n_invalid_tool_calls))},
	{"ernie_generate_result", "messages_json", uint64(unsafe.Offsetof(C.ernie_generate_result{}.messages_json))},
	{"ernie_tool_call", "", uint64(unsafe.Sizeof(C.ernie_tool_call{}))},
	{"ernie_tool_call", "struct_size", uint64(unsafe.Offsetof(C.ernie_tool_call{}.struct_size))},
	{"ernie_tool_call", "id", uint64(unsafe.Offsetof(C.ernie_tool_call{}.id))},
	{"ernie_tool_call", "name", uint64(unsafe.Offsetof(C.ernie_tool_call{}.name))},
	{"ernie_tool_call", "arguments_json", uint64(unsafe.Offsetof(C.ernie_tool_call{}.arguments_json))},
	{"ernie_message", "", uint64(unsafe.Sizeof(C.ernie_message{}))},
	{"ernie_message", "struct_size", uint64(unsafe.Offsetof(C.ernie_message{}.struct_size))},
	{"ernie_message", "role", uint64(unsafe.Offsetof(C.ernie_message{}.role))},
	{"ernie_message", "content", uint64(unsafe.Offsetof(C.ernie_message{}.content))},
	{"ernie_message", "reasoning", uint64(unsafe.Offsetof(C.ernie_message{}.reasoning))},
	{"ernie_message", "tool_calls", uint64(unsafe.Offsetof(C.ernie_message{}.tool_calls))},
	{"ernie_message", "n_tool_calls", uint64(unsafe.Offsetof(C.ernie_message{}.n_tool_calls))},
	{"ernie_message", "tool_call_id", uint64(unsafe.Offsetof(C.ernie_message{}.tool_call_id))},
	{"ernie_tool", "", uint64(unsafe.Sizeof(C.ernie_tool{}))},
	{"ernie_tool", "struct_size", uint64(unsafe.Offsetof(C.ernie_tool{}.struct_size))},
	{"ernie_tool", "name", uint64(unsafe.Offsetof(C.ernie_tool{}.name))},
	{"ernie_tool", "description", uint64(unsafe.Offsetof(C.ernie_tool{}.description))},
	{"ernie_tool", "parameters_json", uint64(unsafe.Offsetof(C.ernie_tool{}.parameters_json))},
	{"ernie_chat_params", "", uint64(unsafe.Sizeof(C.ernie_chat_params{}))},
	{"ernie_chat_params", "struct_size", uint64(unsafe.Offsetof(C.ernie_chat_params{}.struct_size))},
	{"ernie_chat_params", "format", uint64(unsafe.Offsetof(C.ernie_chat_params{}.format))},
	{"ernie_chat_params", "tools_json", uint64(unsafe.Offsetof(C.ernie_chat_params{}.tools_json))},
	{"ernie_chat_params", "system_settings", uint64(unsafe.Offsetof(C.ernie_chat_params{}.system_settings))},
	{"ernie_chat_params", "add_generation_prompt", uint64(unsafe.Offsetof(C.ernie_chat_params{}.add_generation_prompt))},
	{"ernie_chat_params", "tools", uint64(unsafe.Offsetof(C.ernie_chat_params{}.tools))},
	{"ernie_chat_params", "n_tools", uint64(unsafe.Offsetof(C.ernie_chat_params{}.n_tools))},
	{"ernie_chat_params", "tool_choice", uint64(unsafe.Offsetof(C.ernie_chat_params{}.tool_choice))},
	{"ernie_chat_params", "tool_choice_name", uint64(unsafe.Offsetof(C.ernie_chat_params{}.tool_choice_name))},
	{"ernie_chat_params", "parallel_tool_calls", uint64(unsafe.Offsetof(C.ernie_chat_params{}.parallel_tool_calls))},
	{"ernie_pack_params", "", uint64(unsafe.Sizeof(C.ernie_pack_params{}))},
	{"ernie_pack_params", "struct_size", uint64(unsafe.Offsetof(C.ernie_pack_params{}.struct_size))},
	{"ernie_pack_params", "type", uint64(unsafe.Offsetof(C.ernie_pack_params{}._type))},
	{"ernie_pack_params", "n_threads", uint64(unsafe.Offsetof(C.ernie_pack_params{}.n_threads))},
	{"ernie_pack_params", "progress", uint64(unsafe.Offsetof(C.ernie_pack_params{}.progress))},
	{"ernie_pack_params", "progress_user_data", uint64(unsafe.Offsetof(C.ernie_pack_params{}.progress_user_data))},
	{"ernie_pack_params", "log", uint64(unsafe.Offsetof(C.ernie_pack_params{}.log))},
	{"ernie_pack_params", "log_user_data", uint64(unsafe.Offsetof(C.ernie_pack_params{}.log_user_data))},
}

var abiOnce struct {
	sync.Once
	err error
}

// CheckABI reports whether the loaded libernie has the ABI version and the
// struct layouts this package was compiled for. Every entry point calls it
// (once per process) before using the library.
func CheckABI() error {
	abiOnce.Do(func() {
		abiOnce.err = compareABI(uint32(C.ernie_abi_version()), libraryLayout(), bindingLayout)
	})
	return abiOnce.err
}

func libraryLayout() []abiEntry {
	var entries *C.ernie_abi_entry
	var n C.size_t
	if C.ernie_abi_info(&entries, &n) != C.ERNIE_OK || entries == nil {
		return nil
	}
	rows := unsafe.Slice(entries, int(n))
	out := make([]abiEntry, 0, len(rows))
	for _, r := range rows {
		e := abiEntry{structName: C.GoString(r.struct_name), value: uint64(r.value)}
		if r.field_name != nil {
			e.fieldName = C.GoString(r.field_name)
		}
		out = append(out, e)
	}
	return out
}

// compareABI: same version; every field offset of the binding found in the
// library's table with the same value; each struct as large in the library,
// or larger when it starts with struct_size (compatible growth: fields
// appended by a newer library, which reads only the bytes we declare).
// Structs without struct_size are read as arrays: their size must match.
func compareABI(version uint32, library, binding []abiEntry) error {
	if version != abiVersion {
		return fmt.Errorf("%w: libernie has ABI version %d but this package was written for ABI version %d; "+
			"use the Go package that matches the library (libernie.so.%d)", ErrABIMismatch, version, abiVersion, version)
	}
	have := make(map[[2]string]uint64, len(library))
	for _, e := range library {
		have[[2]string{e.structName, e.fieldName}] = e.value
	}
	for _, want := range binding {
		what := "sizeof(" + want.structName + ")"
		if want.fieldName != "" {
			what = "offset of " + want.structName + "." + want.fieldName
		}
		got, ok := have[[2]string{want.structName, want.fieldName}]
		if !ok {
			return fmt.Errorf("%w: the library's layout table has no entry for the %s; "+
				"the library is older than include/ernie.h this package was built with", ErrABIMismatch, what)
		}
		if want.fieldName == "" && got > want.value && hasStructSize(binding, want.structName) {
			continue
		}
		if got != want.value {
			return fmt.Errorf("%w: %s is %d in the library but %d in include/ernie.h "+
				"this package was built with; rebuild the library and the package from the same sources", ErrABIMismatch, what, got, want.value)
		}
	}
	return nil
}

func hasStructSize(layout []abiEntry, structName string) bool {
	for _, e := range layout {
		if e.structName == structName && e.fieldName == "struct_size" {
			return true
		}
	}
	return false
}
