//! Generation options, streamed events and the owned result of a generation.
use std::borrow::Cow;
use std::ffi::CString;
use std::os::raw::c_char;

use ernie_sys as sys;

use crate::chat::ToolCall;
use crate::error::Result;
use crate::strings::{c_string, c_string_opt, copy_c_str, ptr_or_null};

/// One alternative token and its log-probability (`ernie_token_logprob`).
pub type TokenLogprob = sys::ernie_token_logprob;

/// How the next token is drawn (docs/sampling.md). `Default` is the
/// library's defaults (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, seed 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub repetition_penalty: f32,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    pub penalty_window: i32,
    pub seed: u64,
    /// (token, bias) pairs added to the logits; `f32::NEG_INFINITY` bans a token.
    pub logit_bias: Vec<(i32, f32)>,
}

impl Default for Sampling {
    fn default() -> Self {
        let mut p = std::mem::MaybeUninit::<sys::ernie_sampling_params>::zeroed();
        // SAFETY: init fills every field.
        let p = unsafe {
            sys::ernie_sampling_params_init_sized(p.as_mut_ptr(), std::mem::size_of::<sys::ernie_sampling_params>());
            p.assume_init()
        };
        Sampling {
            temperature: p.temperature,
            top_k: p.top_k,
            top_p: p.top_p,
            min_p: p.min_p,
            repetition_penalty: p.repetition_penalty,
            presence_penalty: p.presence_penalty,
            frequency_penalty: p.frequency_penalty,
            penalty_window: p.penalty_window,
            seed: p.seed,
            logit_bias: Vec::new(),
        }
    }
}

impl Sampling {
    /// The defaults with this seed.
    pub fn seeded(seed: u64) -> Sampling {
        Sampling { seed, ..Sampling::default() }
    }
}

/// Whether a thinking-format model reasons before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reasoning {
    #[default]
    Auto,
    /// Close `<think>` at once.
    Off,
}

/// Options of one generate/chat call. `Default` is the library's defaults
/// (greedy, 512 tokens, no stops).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// `None`: greedy (argmax).
    pub sampling: Option<Sampling>,
    /// Generated-token limit (0 = the context).
    pub max_tokens: i32,
    pub stop_strings: Vec<String>,
    /// Extra stop tokens (end-of-turn tokens always stop).
    pub stop_tokens: Vec<i32>,
    /// Alternatives reported per token in events (0..=20).
    pub n_logprobs: i32,
    /// 0 = the session's thread count.
    pub n_threads: i32,
    pub reasoning: Reasoning,
    /// Reasoning tokens before `</think>` is forced (0 = unlimited).
    pub reasoning_budget: i32,
    /// The answer must be JSON valid under this JSON Schema (docs/grammar.md).
    pub response_schema: Option<String>,
    /// Automatic tool mode: tool rounds before stopping.
    pub max_tool_rounds: i32,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        let p = raw_generate_defaults();
        GenerateOptions {
            sampling: None,
            max_tokens: p.max_tokens,
            stop_strings: Vec::new(),
            stop_tokens: Vec::new(),
            n_logprobs: p.n_logprobs,
            n_threads: p.n_threads,
            reasoning: Reasoning::Auto,
            reasoning_budget: p.reasoning_budget,
            response_schema: None,
            max_tool_rounds: p.max_tool_rounds,
        }
    }
}

fn raw_generate_defaults() -> sys::ernie_generate_params {
    let mut p = std::mem::MaybeUninit::<sys::ernie_generate_params>::zeroed();
    // SAFETY: init fills every field.
    unsafe {
        sys::ernie_generate_params_init_sized(p.as_mut_ptr(), std::mem::size_of::<sys::ernie_generate_params>());
        p.assume_init()
    }
}

/// GenerateOptions as C structs, with everything they point to kept alive.
/// Pointers are set by `raw()`, once this value has stopped moving.
pub(crate) struct RawGenerateParams {
    params: sys::ernie_generate_params,
    sampling: Option<sys::ernie_sampling_params>,
    bias_tokens: Vec<i32>,
    bias_values: Vec<f32>,
    stop_strings: Vec<CString>,
    stop_ptrs: Vec<*const c_char>,
    stop_tokens: Vec<i32>,
    schema: Option<CString>,
}

impl RawGenerateParams {
    pub fn new(o: &GenerateOptions) -> Result<RawGenerateParams> {
        let mut params = raw_generate_defaults();
        params.max_tokens = o.max_tokens;
        params.n_logprobs = o.n_logprobs;
        params.n_threads = o.n_threads;
        params.reasoning = match o.reasoning {
            Reasoning::Auto => sys::ERNIE_REASONING_AUTO,
            Reasoning::Off => sys::ERNIE_REASONING_OFF,
        };
        params.reasoning_budget = o.reasoning_budget;
        params.max_tool_rounds = o.max_tool_rounds;
        let sampling = o.sampling.as_ref().map(|s| {
            let mut p = std::mem::MaybeUninit::<sys::ernie_sampling_params>::zeroed();
            // SAFETY: init fills every field.
            let mut p = unsafe {
                sys::ernie_sampling_params_init_sized(p.as_mut_ptr(), std::mem::size_of::<sys::ernie_sampling_params>());
                p.assume_init()
            };
            p.temperature = s.temperature;
            p.top_k = s.top_k;
            p.top_p = s.top_p;
            p.min_p = s.min_p;
            p.repetition_penalty = s.repetition_penalty;
            p.presence_penalty = s.presence_penalty;
            p.frequency_penalty = s.frequency_penalty;
            p.penalty_window = s.penalty_window;
            p.seed = s.seed;
            p
        });
        let (bias_tokens, bias_values) = o.sampling.iter().flat_map(|s| s.logit_bias.iter().copied()).unzip();
        let stop_strings = o.stop_strings.iter().map(|s| c_string("stop string", s)).collect::<Result<Vec<_>>>()?;
        Ok(RawGenerateParams {
            params,
            sampling,
            bias_tokens,
            bias_values,
            stop_ptrs: Vec::new(),
            stop_strings,
            stop_tokens: o.stop_tokens.clone(),
            schema: c_string_opt("response_schema", o.response_schema.as_deref())?,
        })
    }

    /// The C struct, its pointers aimed at this value's buffers, and the
    /// trampolines installed with `user_data` (the call's callbacks).
    pub fn raw(&mut self, user_data: *mut std::ffi::c_void, with_tools: bool) -> *const sys::ernie_generate_params {
        if let Some(s) = self.sampling.as_mut() {
            s.logit_bias_tokens = self.bias_tokens.as_ptr();
            s.logit_bias_values = self.bias_values.as_ptr();
            s.n_logit_bias = self.bias_tokens.len();
        }
        self.stop_ptrs = self.stop_strings.iter().map(|s| s.as_ptr()).collect();
        let p = &mut self.params;
        p.sampling = self.sampling.as_ref().map_or(std::ptr::null(), |s| s as *const _);
        p.stop_strings = if self.stop_ptrs.is_empty() { std::ptr::null() } else { self.stop_ptrs.as_ptr() };
        p.n_stop_strings = self.stop_ptrs.len();
        p.stop_tokens = if self.stop_tokens.is_empty() { std::ptr::null() } else { self.stop_tokens.as_ptr() };
        p.n_stop_tokens = self.stop_tokens.len();
        p.response_schema_json = ptr_or_null(&self.schema);
        p.on_event = Some(crate::callbacks::event_trampoline);
        p.user_data = user_data;
        if with_tools {
            p.on_tool_call = Some(crate::callbacks::tool_trampoline);
            p.tool_user_data = user_data;
        }
        p
    }
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// An end-of-turn or caller stop token.
    StopToken,
    /// A stop string (not included in the text).
    StopString,
    /// `max_tokens` reached.
    Length,
    ContextFull,
    /// The callback asked to stop, or `CancelHandle::cancel`.
    Cancelled,
    /// The turn ended with tool calls to run (`Generation::tool_calls`).
    ToolCalls,
    /// A reason this binding does not know (from a newer library).
    Other(i32),
}

impl FinishReason {
    fn from_raw(r: i32) -> FinishReason {
        match r {
            sys::ERNIE_FINISH_STOP_TOKEN => FinishReason::StopToken,
            sys::ERNIE_FINISH_STOP_STRING => FinishReason::StopString,
            sys::ERNIE_FINISH_LENGTH => FinishReason::Length,
            sys::ERNIE_FINISH_CONTEXT_FULL => FinishReason::ContextFull,
            sys::ERNIE_FINISH_CANCELLED => FinishReason::Cancelled,
            sys::ERNIE_FINISH_TOOL_CALLS => FinishReason::ToolCalls,
            other => FinishReason::Other(other),
        }
    }
}

/// The outcome of a generate/chat call, copied out of the session.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub finish_reason: FinishReason,
    pub n_prompt_tokens: i32,
    /// Prompt tokens reused from the KV cache.
    pub n_cached_tokens: i32,
    pub n_generated_tokens: i32,
    pub n_reasoning_tokens: i32,
    /// The answer text.
    pub text: String,
    /// The reasoning text ("" if none).
    pub reasoning: String,
    /// Every sampled token, a final stop token included.
    pub tokens: Vec<i32>,
    /// The last turn's valid tool calls (to run, when `finish_reason` is `ToolCalls`).
    pub tool_calls: Vec<ToolCall>,
    pub n_invalid_tool_calls: i32,
    /// Chat: JSON array of the messages this call added to the conversation.
    pub messages_json: String,
}

pub(crate) fn empty_result() -> sys::ernie_generate_result {
    // SAFETY: all-zero is a valid value (null pointers, zero counts).
    let mut r: sys::ernie_generate_result = unsafe { std::mem::zeroed() };
    r.struct_size = std::mem::size_of::<sys::ernie_generate_result>();
    r
}

impl Generation {
    /// # Safety
    /// `r` was filled by a successful generate/chat call on a session that
    /// has not changed since.
    pub(crate) unsafe fn from_raw(r: &sys::ernie_generate_result) -> Generation {
        Generation {
            finish_reason: FinishReason::from_raw(r.finish_reason),
            n_prompt_tokens: r.n_prompt_tokens,
            n_cached_tokens: r.n_cached_tokens,
            n_generated_tokens: r.n_generated_tokens,
            n_reasoning_tokens: r.n_reasoning_tokens,
            text: copy_c_str(r.text),
            reasoning: copy_c_str(r.reasoning),
            tokens: slice_or_empty(r.tokens, r.n_tokens).to_vec(),
            tool_calls: ToolCall::copy_array(r.tool_calls, r.n_tool_calls),
            n_invalid_tool_calls: r.n_invalid_tool_calls,
            messages_json: copy_c_str(r.messages_json),
        }
    }
}

/// # Safety
/// `p` is NULL (then `n` is ignored) or points to `n` valid values.
pub(crate) unsafe fn slice_or_empty<'a, T>(p: *const T, n: usize) -> &'a [T] {
    if p.is_null() || n == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(p, n)
    }
}

/// What a streamed event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A piece of the answer text.
    Text,
    /// A piece of reasoning (thinking format).
    Reasoning,
    /// A complete, valid tool call (`Event::tool_call`).
    ToolCall,
    Other(i32),
}

/// A streamed event; borrowed for the duration of the callback.
#[derive(Debug)]
pub struct Event<'a> {
    pub kind: EventKind,
    /// Never splits a UTF-8 character; may be empty.
    pub text: Cow<'a, str>,
    /// The token this event follows.
    pub token: Option<i32>,
    /// Its log-probability (when `n_logprobs` > 0).
    pub logprob: f32,
    pub top_logprobs: &'a [TokenLogprob],
    pub tool_call: Option<ToolCall>,
}

impl<'a> Event<'a> {
    /// # Safety
    /// `e` and what it points to are valid for `'a` (the callback's duration).
    pub(crate) unsafe fn from_raw(e: &'a sys::ernie_event) -> Event<'a> {
        let bytes = slice_or_empty(e.text as *const u8, e.text_len);
        Event {
            kind: match e.type_ {
                sys::ERNIE_EVENT_TEXT => EventKind::Text,
                sys::ERNIE_EVENT_REASONING => EventKind::Reasoning,
                sys::ERNIE_EVENT_TOOL_CALL => EventKind::ToolCall,
                other => EventKind::Other(other),
            },
            text: String::from_utf8_lossy(bytes),
            token: if e.token < 0 { None } else { Some(e.token) },
            logprob: e.logprob,
            top_logprobs: slice_or_empty(e.top_logprobs, e.n_top_logprobs),
            tool_call: if e.tool_call.is_null() { None } else { Some(ToolCall::from_raw(&*e.tool_call)) },
        }
    }
}
