/*
 * ernie.h — the public C API of the ernie SDK: local inference for Baidu's
 * ERNIE 4.5 language models (ERNIE-4.5-21B-A3B and ERNIE-4.5-0.3B).
 *
 * This is the only public header. It is C11 and C++ clean and stable across
 * releases within one ABI version (see docs/abi.md):
 *
 *  - Handles are opaque (ernie_model, ernie_session).
 *  - Every call that can fail returns an ernie_status. On failure the calling
 *    thread's last-error message says why (ernie_last_error()); it stays valid
 *    until the same thread's next call into the library.
 *  - Parameter structs start with `struct_size`, are filled with defaults by
 *    their `*_init` macro and are passed by pointer. The macro passes
 *    sizeof(struct) to the `*_init_sized` function, so the library writes
 *    exactly the caller's struct, whichever header it was compiled with (a
 *    binding calls `*_init_sized` with the size of its own mirror). A struct
 *    from an older header (smaller struct_size) is accepted; fields it lacks
 *    keep defaults. Structs only grow at the end, within an ABI version.
 *  - Output structs (ernie_model_info) also carry struct_size, set by the
 *    caller; the library writes no more than struct_size bytes.
 *  - Ownership is explicit: the library never frees caller memory; memory the
 *    library returns is either borrowed (documented lifetime) or released with
 *    the matching *_free function.
 *  - Callbacks take `void *user_data` first and, where they can stop work,
 *    return non-zero to stop.
 *  - No C++ exception, abort or signal crosses this API. NULL handles and bad
 *    arguments return ERNIE_E_INVALID_ARGUMENT.
 *  - Thread safety is stated for each function.
 */
#ifndef ERNIE_H
#define ERNIE_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(ERNIE_BUILDING_LIBRARY)
#    define ERNIE_API __declspec(dllexport)
#  else
#    define ERNIE_API __declspec(dllimport)
#  endif
#else
#  define ERNIE_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define ERNIE_VERSION_MAJOR 0
#define ERNIE_VERSION_MINOR 1
#define ERNIE_VERSION_PATCH 0
/* The ABI version: bumped on any incompatible change of an exported symbol or
 * public struct layout. It is the number in the SONAME (libernie.so.1). */
#define ERNIE_ABI_VERSION 1

/* Library version as MAJOR*10000 + MINOR*100 + PATCH. Thread-safe. */
ERNIE_API uint32_t ernie_version(void);
/* Library version as a static string such as "0.1.0". Thread-safe. */
ERNIE_API const char *ernie_version_string(void);
/* The ABI version the library was built with (compare with ERNIE_ABI_VERSION). */
ERNIE_API uint32_t ernie_abi_version(void);

/* One row of the layout table: the size of a public struct (field_name is
 * NULL) or the offset of one of its fields. Bindings that mirror the structs
 * compare their own layout with this table when they load. */
typedef struct ernie_abi_entry {
  const char *struct_name;
  const char *field_name; /* NULL: value is sizeof(struct) */
  uint64_t value;
} ernie_abi_entry;

/* Borrowed, static table of every public struct's size and field offsets.
 * Thread-safe. */
ERNIE_API int32_t ernie_abi_info(const ernie_abi_entry **out_entries, size_t *out_count);

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                   */
/* ------------------------------------------------------------------------ */

typedef int32_t ernie_status;
#define ERNIE_OK 0
#define ERNIE_E_INVALID_ARGUMENT 1  /* NULL handle, bad value, invalid UTF-8, ... */
#define ERNIE_E_IO 2                /* file missing, unreadable, unwritable */
#define ERNIE_E_INVALID_MODEL 3     /* malformed or inconsistent model/checkpoint */
#define ERNIE_E_CHECKSUM 4          /* stored checksum does not match the bytes */
#define ERNIE_E_UNSUPPORTED 5       /* valid but not supported (dtype, version) */
#define ERNIE_E_OUT_OF_MEMORY 6     /* allocation failed or a budget was exceeded */
#define ERNIE_E_CANCELLED 7         /* a callback returned non-zero */
#define ERNIE_E_CONTEXT_FULL 8      /* the session's context cannot take the tokens */
#define ERNIE_E_BUFFER_TOO_SMALL 9  /* caller's buffer too small; size reported */
#define ERNIE_E_BACKEND 10          /* a compute backend failed or is unavailable */
#define ERNIE_E_INTERNAL 11         /* a bug: please report it */

/* Static English name of a status ("ERNIE_E_IO: input/output error"). Never
 * NULL. Thread-safe. */
ERNIE_API const char *ernie_status_string(ernie_status status);

/* Why the calling thread's most recent fallible call failed: every call that
 * returns an ernie_status first clears the message, so after a success it is
 * "". Never NULL. Valid until the same thread calls into the library again.
 * Thread-safe (thread-local). */
ERNIE_API const char *ernie_last_error(void);

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

#define ERNIE_LOG_ERROR 0
#define ERNIE_LOG_WARN 1
#define ERNIE_LOG_INFO 2
#define ERNIE_LOG_DEBUG 3

/* Log sink. May be called from any thread the library uses for the model it
 * was given to; `message` is borrowed for the duration of the call. */
typedef void (*ernie_log_fn)(void *user_data, int32_t level, const char *message);

/* Progress of a long operation, `progress` in [0, 1]. Return non-zero to
 * cancel the operation, which then fails with ERNIE_E_CANCELLED. Called on
 * the thread that started the operation. */
typedef int32_t (*ernie_progress_fn)(void *user_data, float progress);

/* ------------------------------------------------------------------------ */
/* Models                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct ernie_model ernie_model;

typedef struct ernie_model_params {
  size_t struct_size;          /* sizeof(ernie_model_params), set by init */
  int32_t n_threads;           /* compute threads; 0 = number of physical cores */
  int32_t use_mmap;            /* 1 (default): map the file; 0: read it into memory */
  const char *backend;         /* "auto" (default, NULL means auto), "cpu" or "cuda" */
  ernie_progress_fn progress;  /* optional load progress; non-zero cancels */
  void *progress_user_data;
  ernie_log_fn log;            /* optional per-model log sink; NULL = silent */
  void *log_user_data;
  int32_t log_level;           /* highest level passed to `log` (ERNIE_LOG_WARN) */
  /* Resource limits for applications that load files or serve requests they
   * do not control (docs/security.md). 0 means no limit. Going past one fails
   * with ERNIE_E_OUT_OF_MEMORY, before anything is allocated, and leaves the
   * model and its other sessions usable. */
  uint64_t max_file_bytes;        /* larger model files are refused before being mapped or read */
  uint64_t session_memory_budget; /* bytes all sessions of this model may hold together:
                                     each session's ernie_model_session_bytes, plus the
                                     logits kept by ERNIE_EVAL_ALL_LOGITS */
  int32_t max_context;            /* largest session n_ctx; also caps the default n_ctx */
} ernie_model_params;

/* Fills the caller's `struct_size` bytes of `params` with defaults and sets
 * params->struct_size (bytes past what this library knows, from a newer
 * header, are zeroed). Use the ernie_model_params_init(params) macro. The
 * function of that name, for binaries built before the _sized functions
 * existed (ABI 1.0), fills the 1.0 struct only (64 bytes). Thread-safe. The
 * other params structs have the same pair of functions and macro. */
ERNIE_API void ernie_model_params_init_sized(ernie_model_params *params, size_t struct_size);
ERNIE_API void ernie_model_params_init(ernie_model_params *params);
#define ernie_model_params_init(params) ernie_model_params_init_sized((params), sizeof *(params))

/* Loads a packed model file (see docs/format.md; made by ernie_pack).
 * Header, metadata, tokenizer and tensor directory checksums are verified;
 * tensor data checksums are verified on demand (ernie_model_verify).
 * `params` may be NULL for defaults. On success *out_model owns the model;
 * release it with ernie_model_free. Thread-safe. */
ERNIE_API ernie_status ernie_model_load(const char *path, const ernie_model_params *params,
                                        ernie_model **out_model);

/* Releases the caller's reference to a model. Sessions hold their own
 * reference: memory is returned when the last of them is freed too. NULL is a
 * no-op. The handle must not be used after this call (except through
 * sessions created before it). */
ERNIE_API void ernie_model_free(ernie_model *model);

/* Verifies the checksum of every tensor's data. ERNIE_E_CHECKSUM names the
 * first tensor that does not match. Thread-safe. */
ERNIE_API ernie_status ernie_model_verify(const ernie_model *model, ernie_progress_fn progress,
                                          void *user_data);

#define ERNIE_ARCH_MOE 1   /* Ernie4_5_MoeForCausalLM */
#define ERNIE_ARCH_DENSE 2 /* Ernie4_5ForCausalLM */

typedef struct ernie_model_info {
  size_t struct_size; /* set by the caller to sizeof(ernie_model_info) */
  int32_t arch;       /* ERNIE_ARCH_* */
  int32_t n_layers;
  int32_t hidden_size;
  int32_t intermediate_size;     /* dense MLP width */
  int32_t moe_intermediate_size; /* one expert's width (0 for dense) */
  int32_t n_heads;
  int32_t n_kv_heads;
  int32_t head_dim;
  int32_t n_experts;        /* 0 for dense */
  int32_t n_experts_used;   /* top-k (0 for dense) */
  int32_t n_shared_experts; /* 0 for dense */
  int32_t n_moe_layers;
  int32_t vocab_size;        /* rows of the embedding (may be padded) */
  int32_t n_tokenizer_vocab; /* pieces the tokenizer knows (<= vocab_size) */
  int32_t max_context;       /* max_position_embeddings */
  int32_t bos_id;
  int32_t eos_id;
  int32_t pad_id;
  int32_t tied_embeddings;
  float rope_theta;
  float rms_norm_eps;
  uint64_t n_params;           /* parameters stored in the file */
  uint64_t weight_bytes;       /* bytes of tensor data */
  uint64_t kv_bytes_per_token; /* KV cache bytes one context token costs */
  uint64_t file_bytes;         /* size of the packed file */
  int32_t n_tensors;           /* tensors in the packed file */
} ernie_model_info;

/* Fills `info` (caller sets info->struct_size first). Thread-safe. */
ERNIE_API ernie_status ernie_model_get_info(const ernie_model *model, ernie_model_info *info);

/* The packed file's metadata document (JSON: config, tokenizer settings, chat
 * template, provenance). Borrowed: valid until ernie_model_free. Thread-safe. */
ERNIE_API ernie_status ernie_model_metadata(const ernie_model *model, const char **out_json);

/* Bytes a session of `n_ctx` tokens needs beyond the weights: KV cache (in
 * the model's default ERNIE_KV_AUTO type), scratch buffers for batches of up
 * to `n_batch` tokens, and one row of logits. This is what a session takes
 * from the session memory budget. Thread-safe. */
ERNIE_API ernie_status ernie_model_session_bytes(const ernie_model *model, int32_t n_ctx,
                                                 int32_t n_batch, uint64_t *out_bytes);

/* ------------------------------------------------------------------------ */
/* Compute backends (docs/backends.md)                                       */
/* ------------------------------------------------------------------------ */

/* A model runs on one backend: "cpu" (built in, always available) or a plugin
 * loaded at run time ("cuda": libernie-cuda.so beside libernie.so, or in a
 * directory of the ERNIE_PLUGIN_DIR environment variable). "auto" picks the
 * best available one, else the CPU; ernie_model_params.backend or the
 * ERNIE_BACKEND environment variable (which overrides "auto") force one, and
 * forcing one that is unavailable fails with ERNIE_E_BACKEND and the reason.
 * A missing or broken plugin never affects the CPU backend. */

/* Every candidate backend as one JSON document (UTF-8, NUL-terminated; free
 * *out_json with ernie_free; *out_len excludes the NUL; out_len may be NULL):
 *
 *   [{"name": "cpu", "version": "0.1.0", "available": true,
 *     "selected_by_auto": true, "reason": "", "path": "", "score": 10,
 *     "devices": [{"name": "...", "memory_bytes": 0, "free_bytes": 0,
 *                  "compute_capability": "avx2"}]},
 *    {"name": "cuda", ..., "available": false, "reason": "no CUDA device"}]
 *
 * "reason" says why an unavailable candidate was rejected; "" otherwise.
 * "selected_by_auto" marks the candidate a model loaded with backend "auto"
 * would get under the current environment (ERNIE_BACKEND included; none when
 * that forces an unavailable backend; the CPU still takes the model if that
 * backend then fails to prepare it). "path" is the plugin file ("" for the
 * CPU). For CUDA devices compute_capability is "major.minor"; for the CPU it
 * is the kernels' instruction set: "scalar", "avx2", "avx512" or
 * "avx512gfni" (later versions may add levels). Free memory is measured at
 * the call.
 * Plugins are looked for once per process, on the first call of this function
 * or the first model load that considers them; later calls probe them again.
 * Thread-safe. */
ERNIE_API ernie_status ernie_backends_json(char **out_json, size_t *out_len);

/* The name of the backend `model` runs on ("cpu", "cuda"). Borrowed: valid
 * until ernie_model_free. Thread-safe. */
ERNIE_API ernie_status ernie_model_backend(const ernie_model *model, const char **out_name);

/* ------------------------------------------------------------------------ */
/* Tokenizer                                                                 */
/* ------------------------------------------------------------------------ */

/* Match special pieces (<|im_start|>, <think>, ...) written in the text as
 * their control tokens. Without it they are plain text — the mode for any
 * text that did not come from the application itself. */
#define ERNIE_TOKENIZE_PARSE_SPECIAL 1u

/* Tokenizes UTF-8 `text` of `text_len` bytes (invalid UTF-8 is refused).
 * Writes up to `capacity` ids to `out_ids` and the full count to *out_count;
 * if capacity is too small returns ERNIE_E_BUFFER_TOO_SMALL with *out_count
 * set to the count needed (pass out_ids NULL, capacity 0 to ask). No BOS is
 * added. Thread-safe. */
ERNIE_API ernie_status ernie_tokenize(const ernie_model *model, const char *text, size_t text_len,
                                      uint32_t flags, int32_t *out_ids, size_t capacity,
                                      size_t *out_count);

/* Turns ids back into text. Writes up to `capacity` bytes plus a NUL to
 * `out_text` and the byte count (without NUL) to *out_len; returns
 * ERNIE_E_BUFFER_TOO_SMALL with *out_len set if it does not fit with its NUL.
 * Ids that cut a UTF-8 character yield its raw bytes. Control tokens are
 * written as their text. Thread-safe. */
ERNIE_API ernie_status ernie_detokenize(const ernie_model *model, const int32_t *ids, size_t n_ids,
                                        char *out_text, size_t capacity, size_t *out_len);

/* ------------------------------------------------------------------------ */
/* Sessions                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct ernie_session ernie_session;

typedef struct ernie_session_params {
  size_t struct_size; /* sizeof(ernie_session_params), set by init */
  int32_t n_ctx;      /* context length in tokens; 0 = min(model max, 4096) */
  int32_t n_batch;    /* max tokens per forward pass; larger evals are split (512) */
  int32_t n_threads;  /* 0 = the model's thread count */
  int32_t kv_type;    /* ERNIE_KV_* storage of the KV cache (AUTO) */
} ernie_session_params;

/* KV cache storage. AUTO: f32 for models with float weights (results match
 * the reference to f32 rounding), f16 for quantized models (half the memory
 * and the bytes read per token; ~5e-4 relative rounding of keys and values). */
#define ERNIE_KV_AUTO 0
#define ERNIE_KV_F32 1
#define ERNIE_KV_F16 2

ERNIE_API void ernie_session_params_init_sized(ernie_session_params *params, size_t struct_size);
ERNIE_API void ernie_session_params_init(ernie_session_params *params);
#define ernie_session_params_init(params) ernie_session_params_init_sized((params), sizeof *(params))

/* Creates a session (its own KV cache) over `model`. `params` may be NULL.
 * Many sessions may share one model. ERNIE_E_OUT_OF_MEMORY if n_ctx is above
 * the model's max_context limit, if the session does not fit in what is left
 * of the model's session_memory_budget, or if its memory cannot be allocated.
 * Thread-safe with respect to the model. */
ERNIE_API ernie_status ernie_session_create(ernie_model *model, const ernie_session_params *params,
                                            ernie_session **out_session);

/* Releases a session. NULL is a no-op. Not thread-safe with other calls on
 * the same session. */
ERNIE_API void ernie_session_free(ernie_session *session);

/* Keep the logits of every evaluated token, not only the last one's. */
#define ERNIE_EVAL_ALL_LOGITS 1u

/* Appends `n_tokens` tokens at the end of the session's context and runs the
 * model over them. Afterwards ernie_session_logits reads the logits of the
 * last token, or of any token of this call with ERNIE_EVAL_ALL_LOGITS.
 * The result is the same whether tokens are fed in one call or one by one.
 * ERNIE_E_CONTEXT_FULL if they do not fit (the session is unchanged);
 * ERNIE_E_OUT_OF_MEMORY if the logits ERNIE_EVAL_ALL_LOGITS keeps do not fit
 * in the session memory budget (also unchanged).
 * Calls on one session must not overlap; different sessions may run
 * concurrently. */
ERNIE_API ernie_status ernie_session_eval(ernie_session *session, const int32_t *tokens,
                                          size_t n_tokens, uint32_t flags);

/* Borrowed logits (vocab_size floats) of token `index` of the last eval call:
 * 0 is its first token, -1 its last. Valid until the next call that changes
 * the session. Same threading rule as ernie_session_eval. */
ERNIE_API ernie_status ernie_session_logits(ernie_session *session, int64_t index,
                                            const float **out_logits, size_t *out_n_vocab);

/* Number of tokens in the session's context. */
ERNIE_API ernie_status ernie_session_n_past(const ernie_session *session, int64_t *out_n_past);

/* Forgets every context token from position `n_keep` on (0 resets the
 * session). Same threading rule as ernie_session_eval. */
ERNIE_API ernie_status ernie_session_truncate(ernie_session *session, int64_t n_keep);

/* Forgets the session's whole context (same as ernie_session_truncate(s, 0)). */
ERNIE_API ernie_status ernie_session_reset(ernie_session *session);

/* Memory returned by the library with "free with ernie_free" (rendered
 * prompts, saved session blobs). NULL is a no-op. Thread-safe. */
ERNIE_API void ernie_free(void *memory);

/* ------------------------------------------------------------------------ */
/* Sampling                                                                  */
/* ------------------------------------------------------------------------ */

/* How the next token is chosen from the logits (docs/sampling.md). The stages
 * run in this order: logit bias, repetition/presence/frequency penalties over
 * the last `penalty_window` tokens, temperature, top-k, top-p, min-p, then a
 * draw from the seeded generator. temperature 0 means greedy (argmax).
 * Padded vocabulary ids (beyond the tokenizer's pieces) are never chosen. */
typedef struct ernie_sampling_params {
  size_t struct_size;         /* sizeof(ernie_sampling_params), set by init */
  float temperature;          /* 0 = greedy (default 0.8) */
  int32_t top_k;              /* 0 = off (default 40) */
  float top_p;                /* 1 = off (default 0.95) */
  float min_p;                /* 0 = off (default 0.05) */
  float repetition_penalty;   /* 1 = off (default 1) */
  float presence_penalty;     /* 0 = off (default 0) */
  float frequency_penalty;    /* 0 = off (default 0) */
  int32_t penalty_window;     /* tokens the penalties look back on (default 64) */
  uint64_t seed;              /* same seed + same inputs = same tokens (default 0) */
  const int32_t *logit_bias_tokens; /* optional: add logit_bias_values[i] to token i's logit */
  const float *logit_bias_values;   /* -INFINITY bans a token */
  size_t n_logit_bias;
} ernie_sampling_params;

ERNIE_API void ernie_sampling_params_init_sized(ernie_sampling_params *params, size_t struct_size);
ERNIE_API void ernie_sampling_params_init(ernie_sampling_params *params);
#define ernie_sampling_params_init(params) ernie_sampling_params_init_sized((params), sizeof *(params))

/* ------------------------------------------------------------------------ */
/* Generation                                                                */
/* ------------------------------------------------------------------------ */

/* Event types passed to ernie_event_fn. */
#define ERNIE_EVENT_TEXT 1      /* a piece of the answer text */
#define ERNIE_EVENT_REASONING 2 /* a piece of reasoning (thinking format) */
#define ERNIE_EVENT_TOOL_CALL 3 /* a complete, valid tool call (event->tool_call) */

typedef struct ernie_tool_call ernie_tool_call;

/* One token's log-probability under the model (log-softmax of the raw logits). */
typedef struct ernie_token_logprob {
  int32_t token;
  float logprob;
} ernie_token_logprob;

/* A streamed event. Everything it points to is borrowed for the duration of
 * the callback. Text pieces are UTF-8 and never split a character: a piece
 * may hold the text of several tokens, or none (then text_len is 0). */
typedef struct ernie_event {
  size_t struct_size;
  int32_t type;           /* ERNIE_EVENT_* */
  const char *text;       /* not NUL-terminated */
  size_t text_len;
  int32_t token;          /* the token this event follows (-1 if none) */
  float logprob;          /* its log-probability (when logprobs were asked for) */
  const ernie_token_logprob *top_logprobs; /* the n_logprobs best alternatives */
  size_t n_top_logprobs;
  const ernie_tool_call *tool_call; /* ERNIE_EVENT_TOOL_CALL: the call (id, name, arguments) */
} ernie_event;

/* Streaming callback: return non-zero to stop generating (finish reason
 * ERNIE_FINISH_CANCELLED). Called on the generating thread. */
typedef int32_t (*ernie_event_fn)(void *user_data, const ernie_event *event);

/* Where a tool callback writes its result. */
typedef struct ernie_tool_output ernie_tool_output;

/* Sets the result text of a tool call (UTF-8, copied). Call from the tool
 * callback only. */
ERNIE_API ernie_status ernie_tool_output_set(ernie_tool_output *output, const char *text, size_t len);

#define ERNIE_TOOL_RESULT 0 /* the callback set the result: generation continues */
#define ERNIE_TOOL_DEFER 1  /* run it later: generation stops, ERNIE_FINISH_TOOL_CALLS */

/* Automatic tool calling: called on the generating thread for each valid
 * call (arguments already validated against the tool's schema). Return
 * ERNIE_TOOL_RESULT after ernie_tool_output_set, or ERNIE_TOOL_DEFER to stop
 * and run the tools elsewhere (then send the results as "tool" messages in
 * the next ernie_session_chat). */
typedef int32_t (*ernie_tool_fn)(void *user_data, const ernie_tool_call *call, ernie_tool_output *output);

#define ERNIE_FINISH_STOP_TOKEN 1   /* an end-of-turn or caller stop token */
#define ERNIE_FINISH_STOP_STRING 2  /* a stop string (not included in the text) */
#define ERNIE_FINISH_LENGTH 3       /* max_tokens reached */
#define ERNIE_FINISH_CONTEXT_FULL 4 /* the session's context is full */
#define ERNIE_FINISH_CANCELLED 5    /* callback returned non-zero or ernie_session_cancel */
#define ERNIE_FINISH_ERROR 6        /* failed; the status says why */
#define ERNIE_FINISH_TOOL_CALLS 7   /* the turn ended with tool calls to run (manual or
                                       deferred): result->tool_calls lists them */

#define ERNIE_REASONING_AUTO 0 /* the model reasons if its chat format does */
#define ERNIE_REASONING_OFF 1  /* thinking format: close <think> at once */

typedef struct ernie_generate_params {
  size_t struct_size;                   /* sizeof(ernie_generate_params), set by init */
  const ernie_sampling_params *sampling; /* NULL = greedy */
  int32_t max_tokens;                   /* generated-token limit (default 512; 0 = context) */
  const char *const *stop_strings;      /* optional stop strings */
  size_t n_stop_strings;
  const int32_t *stop_tokens;           /* optional extra stop tokens (the model's
                                           end-of-turn tokens always stop) */
  size_t n_stop_tokens;
  int32_t n_logprobs;                   /* 0 = none; else alternatives per token (<= 20) */
  int32_t n_threads;                    /* 0 = the session's; else used from this call on */
  int32_t reasoning;                    /* ERNIE_REASONING_* */
  int32_t reasoning_budget;             /* thinking format: reasoning tokens before
                                           </think> is forced (0 = unlimited) */
  ernie_event_fn on_event;              /* optional streaming callback */
  void *user_data;
  const char *response_schema_json;     /* optional: the answer must be JSON valid under
                                           this JSON Schema (docs/grammar.md); generation
                                           stops (ERNIE_FINISH_STOP_TOKEN) when it is complete */
  ernie_tool_fn on_tool_call;           /* chat with tools: NULL = manual mode (calls are
                                           reported, ERNIE_FINISH_TOOL_CALLS); else automatic */
  void *tool_user_data;
  int32_t max_tool_rounds;              /* automatic mode: tool rounds before stopping (8) */
} ernie_generate_params;

ERNIE_API void ernie_generate_params_init_sized(ernie_generate_params *params, size_t struct_size);
ERNIE_API void ernie_generate_params_init(ernie_generate_params *params);
#define ernie_generate_params_init(params) ernie_generate_params_init_sized((params), sizeof *(params))

/* The outcome of a generation. Text pointers are borrowed from the session
 * and stay valid until its next generate/chat/reset/free. */
typedef struct ernie_generate_result {
  size_t struct_size;           /* set by the caller to sizeof(ernie_generate_result) */
  int32_t finish_reason;        /* ERNIE_FINISH_* */
  int32_t n_prompt_tokens;      /* tokens of the prompt */
  int32_t n_cached_tokens;      /* prompt tokens reused from the KV cache */
  int32_t n_generated_tokens;   /* tokens sampled */
  int32_t n_reasoning_tokens;   /* of which reasoning (thinking format) */
  const char *text;             /* the answer text (NUL-terminated) */
  const char *reasoning;        /* the reasoning text, "" if none */
  const int32_t *tokens;        /* every sampled token, a final stop token included */
  size_t n_tokens;
  const ernie_tool_call *tool_calls; /* the last turn's valid tool calls (pending when
                                        finish_reason is ERNIE_FINISH_TOOL_CALLS) */
  size_t n_tool_calls;
  int32_t n_invalid_tool_calls; /* calls that did not parse or validate (never run) */
  const char *messages_json;    /* chat: JSON array of the messages this call added
                                   (assistant turns with tool calls, tool results, the
                                   final answer) to append to the conversation */
} ernie_generate_result;

/* Generates a continuation of `prompt` (the session's WHOLE context: the KV
 * cache is reused for the longest common prefix with what the session holds,
 * and only the rest is evaluated). Streams events to params->on_event, fills
 * *result (may be NULL). A cancelled or stopped generation leaves the session
 * usable, holding the prompt and the tokens generated. Returns ERNIE_OK for
 * every finish reason except ERNIE_FINISH_ERROR; ERNIE_E_CONTEXT_FULL if the
 * prompt itself does not fit (the session is then unchanged).
 * Calls on one session must not overlap; different sessions may generate
 * concurrently. */
ERNIE_API ernie_status ernie_session_generate(ernie_session *session, const int32_t *prompt,
                                              size_t n_prompt, const ernie_generate_params *params,
                                              ernie_generate_result *result);

/* Asks the generation running on `session` to stop after the current token
 * (finish reason ERNIE_FINISH_CANCELLED). Has no effect when none is running.
 * Thread-safe: the one session function that may be called from any thread
 * while another call on the same session runs. */
ERNIE_API ernie_status ernie_session_cancel(ernie_session *session);

/* The tokens of the session's context (borrowed; valid until the session
 * changes). Same threading rule as ernie_session_eval. */
ERNIE_API ernie_status ernie_session_tokens(const ernie_session *session, const int32_t **out_tokens,
                                            size_t *out_count);

/* ------------------------------------------------------------------------ */
/* Conversations                                                             */
/* ------------------------------------------------------------------------ */

/* A tool call made by the assistant: reported by generation, or given back
 * to the model in an assistant message. */
struct ernie_tool_call {
  size_t struct_size;         /* sizeof(ernie_tool_call) */
  const char *id;             /* optional */
  const char *name;
  const char *arguments_json; /* a JSON object (or any JSON, written as given) */
};

/* One message. role is "system", "user", "assistant" or "tool". Arrays of
 * messages (and of tool calls) are read with the stride of the first
 * element's struct_size. */
typedef struct ernie_message {
  size_t struct_size;          /* sizeof(ernie_message) */
  const char *role;
  const char *content;         /* UTF-8; may be NULL for an assistant message with tool calls */
  const char *reasoning;       /* optional: an assistant's earlier reasoning */
  const ernie_tool_call *tool_calls; /* optional (assistant) */
  size_t n_tool_calls;
  const char *tool_call_id;    /* optional (tool) */
} ernie_message;

/* A tool the model may call (thinking format). Its arguments are generated
 * under `parameters_json` (a JSON Schema, docs/grammar.md), so they always
 * parse and validate. */
typedef struct ernie_tool {
  size_t struct_size;          /* sizeof(ernie_tool) */
  const char *name;
  const char *description;     /* optional */
  const char *parameters_json; /* JSON Schema of the arguments object (NULL: any object) */
} ernie_tool;

#define ERNIE_TOOL_CHOICE_AUTO 0     /* the model decides */
#define ERNIE_TOOL_CHOICE_NONE 1     /* the model may not call tools */
#define ERNIE_TOOL_CHOICE_REQUIRED 2 /* the answer is a tool call */
#define ERNIE_TOOL_CHOICE_NAMED 3    /* the answer is a call of tool_choice_name */

typedef struct ernie_chat_params {
  size_t struct_size;          /* sizeof(ernie_chat_params), set by init */
  const char *format;          /* NULL/"auto": from the model's chat template; "pt"; "thinking" */
  const char *tools_json;      /* optional JSON array of tools ({"type": "function", ...}) */
  const char *system_settings; /* optional (thinking format) */
  int32_t add_generation_prompt; /* default 1 */
  const ernie_tool *tools;     /* optional tools as structs (instead of tools_json) */
  size_t n_tools;
  int32_t tool_choice;         /* ERNIE_TOOL_CHOICE_* (AUTO) */
  const char *tool_choice_name; /* ERNIE_TOOL_CHOICE_NAMED */
  int32_t parallel_tool_calls; /* 1 (default): several calls per turn; 0: stop after one */
} ernie_chat_params;



ERNIE_API void ernie_chat_params_init_sized(ernie_chat_params *params, size_t struct_size);
ERNIE_API void ernie_chat_params_init(ernie_chat_params *params);
#define ernie_chat_params_init(params) ernie_chat_params_init_sized((params), sizeof *(params))

/* Renders messages into the model's prompt text exactly as its chat template
 * does. *out_text is NUL-terminated, *out_len excludes the NUL; free it with
 * ernie_free. Thread-safe. */
ERNIE_API ernie_status ernie_chat_render(const ernie_model *model, const ernie_message *messages,
                                         size_t n_messages, const ernie_chat_params *params,
                                         char **out_text, size_t *out_len);

/* The same from one JSON document {"messages": [...], "tools": [...],
 * "add_generation_prompt": true, "system_settings": "..."} (tools and the
 * rest optional). `format` as in ernie_chat_params. Thread-safe. */
ERNIE_API ernie_status ernie_chat_render_json(const ernie_model *model, const char *conversation_json,
                                              const char *format, char **out_text, size_t *out_len);

/* Parses text a model generated after the generation prompt into reasoning,
 * answer and tool calls, as one JSON document (free with ernie_free):
 *   {"reasoning_content": "...", "content": "...",
 *    "tool_calls": [{"name": "...", "arguments": {...}}], "invalid_tool_calls": N}
 * In the thinking format tool calls are read with a real JSON parser (a
 * string argument may contain "</tool_call>"); a call that does not parse is
 * counted in invalid_tool_calls and never returned. In the pt format the
 * whole text is content. `format` as in ernie_chat_params. Thread-safe. */
ERNIE_API ernie_status ernie_chat_parse(const ernie_model *model, const char *format, const char *output,
                                        size_t output_len, char **out_json, size_t *out_len);

/* Renders the conversation, tokenizes it (message text with special-token
 * parsing OFF: a user cannot inject control tokens), reuses the KV cache for
 * the common prefix with the previous turn, and generates the assistant's
 * answer as ernie_session_generate does. In the thinking format, reasoning
 * and answer arrive as separate events and result fields, and with tools
 * (docs/tools.md) calls are generated under their schemas; with
 * params->on_tool_call each call is run, its result appended as a tool
 * message, and generation continues (up to max_tool_rounds). */
ERNIE_API ernie_status ernie_session_chat(ernie_session *session, const ernie_message *messages,
                                          size_t n_messages, const ernie_chat_params *chat,
                                          const ernie_generate_params *params,
                                          ernie_generate_result *result);

/* ernie_session_chat with the conversation as one JSON document (the shape of
 * ernie_chat_render_json). */
ERNIE_API ernie_status ernie_session_chat_json(ernie_session *session, const char *conversation_json,
                                               const char *format, const ernie_generate_params *params,
                                               ernie_generate_result *result);

/* ------------------------------------------------------------------------ */
/* Saving and restoring sessions                                             */
/* ------------------------------------------------------------------------ */

/* Serializes the session's context (tokens and KV cache) into a
 * zstd-compressed blob stamped with the format version and the model's
 * identity. Free *out_blob with ernie_free. Same threading rule as
 * ernie_session_eval. */
ERNIE_API ernie_status ernie_session_save(const ernie_session *session, void **out_blob, size_t *out_size);

/* Replaces the session's context with a saved one. A blob from another model,
 * a newer format or damaged bytes is refused (ERNIE_E_INVALID_ARGUMENT, or
 * ERNIE_E_CONTEXT_FULL if it needs a larger n_ctx) and the session is
 * unchanged. */
ERNIE_API ernie_status ernie_session_restore(ernie_session *session, const void *blob, size_t size);

/* ------------------------------------------------------------------------ */
/* Packing a Hugging Face checkpoint                                         */
/* ------------------------------------------------------------------------ */

#define ERNIE_TYPE_AUTO 0 /* keep every tensor's checkpoint dtype */
#define ERNIE_TYPE_F32 1
#define ERNIE_TYPE_F16 2
#define ERNIE_TYPE_BF16 3
/* Quantization recipes (docs/quantization.md): a storage type per tensor role
 * (routed experts, shared experts, attention, dense MLP, embeddings, output
 * head); routers and norms stay f32. Rows must be whole blocks (32 values for
 * q8, 256 for the others): a tensor whose rows are not takes the next wider
 * type that fits, bf16 at worst. */
#define ERNIE_TYPE_Q8 16 /* ~8.5 bits/weight: near-lossless */
#define ERNIE_TYPE_Q6 17 /* ~6.6 bits/weight */
#define ERNIE_TYPE_Q4 18 /* ~4.5-5 bits/weight: the default for laptops */
#define ERNIE_TYPE_Q2 19 /* ~3 bits/weight: routed experts at 2.6 bits */

typedef struct ernie_pack_params {
  size_t struct_size;         /* sizeof(ernie_pack_params), set by init */
  int32_t type;               /* ERNIE_TYPE_*: weight matrix type or recipe (AUTO) */
  int32_t n_threads;          /* 0 = physical cores */
  ernie_progress_fn progress; /* optional; non-zero cancels (nothing is written) */
  void *progress_user_data;
  ernie_log_fn log;           /* optional */
  void *log_user_data;
} ernie_pack_params;

ERNIE_API void ernie_pack_params_init_sized(ernie_pack_params *params, size_t struct_size);
ERNIE_API void ernie_pack_params_init(ernie_pack_params *params);
#define ernie_pack_params_init(params) ernie_pack_params_init_sized((params), sizeof *(params))

/* Converts a Hugging Face ERNIE-4.5 checkpoint directory (config.json,
 * safetensors shard(s), tokenizer.model, tokenizer_config.json) into one
 * packed file at `out_path`, written atomically (temp file + rename): on any
 * failure `out_path` is left as it was. Tensors are streamed, so memory use
 * stays small whatever the checkpoint's size. Thread-safe. */
ERNIE_API ernie_status ernie_pack(const char *hf_dir, const char *out_path,
                                  const ernie_pack_params *params);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ERNIE_H */
