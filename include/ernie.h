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
 *    their `*_init` function and are passed by pointer. A struct from an older
 *    header (smaller struct_size) is accepted; fields it lacks keep defaults.
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
  const char *backend;         /* "auto" (default, NULL means auto) or "cpu" */
  ernie_progress_fn progress;  /* optional load progress; non-zero cancels */
  void *progress_user_data;
  ernie_log_fn log;            /* optional per-model log sink; NULL = silent */
  void *log_user_data;
  int32_t log_level;           /* highest level passed to `log` (ERNIE_LOG_WARN) */
} ernie_model_params;

/* Fills `params` with defaults (and struct_size). Thread-safe. */
ERNIE_API void ernie_model_params_init(ernie_model_params *params);

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
} ernie_model_info;

/* Fills `info` (caller sets info->struct_size first). Thread-safe. */
ERNIE_API ernie_status ernie_model_get_info(const ernie_model *model, ernie_model_info *info);

/* The packed file's metadata document (JSON: config, tokenizer settings, chat
 * template, provenance). Borrowed: valid until ernie_model_free. Thread-safe. */
ERNIE_API ernie_status ernie_model_metadata(const ernie_model *model, const char **out_json);

/* Bytes a session of `n_ctx` tokens needs beyond the weights (KV cache and
 * scratch buffers for batches of up to `n_batch` tokens). Thread-safe. */
ERNIE_API ernie_status ernie_model_session_bytes(const ernie_model *model, int32_t n_ctx,
                                                 int32_t n_batch, uint64_t *out_bytes);

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
} ernie_session_params;

ERNIE_API void ernie_session_params_init(ernie_session_params *params);

/* Creates a session (its own KV cache) over `model`. `params` may be NULL.
 * Many sessions may share one model. Thread-safe with respect to the model. */
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
 * ERNIE_E_CONTEXT_FULL if they do not fit (the session is unchanged).
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

/* ------------------------------------------------------------------------ */
/* Packing a Hugging Face checkpoint                                         */
/* ------------------------------------------------------------------------ */

#define ERNIE_TYPE_AUTO 0 /* keep every tensor's checkpoint dtype */
#define ERNIE_TYPE_F32 1
#define ERNIE_TYPE_F16 2
#define ERNIE_TYPE_BF16 3

typedef struct ernie_pack_params {
  size_t struct_size;         /* sizeof(ernie_pack_params), set by init */
  int32_t type;               /* ERNIE_TYPE_* for weight matrices (AUTO) */
  int32_t n_threads;          /* 0 = physical cores */
  ernie_progress_fn progress; /* optional; non-zero cancels (nothing is written) */
  void *progress_user_data;
  ernie_log_fn log;           /* optional */
  void *log_user_data;
} ernie_pack_params;

ERNIE_API void ernie_pack_params_init(ernie_pack_params *params);

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
