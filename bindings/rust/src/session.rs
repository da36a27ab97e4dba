//! `Session`: one KV cache over a model, and everything that runs on it.
//!
//! The C rule "calls on one session must not overlap" becomes Rust's: a
//! `Session` is `Send` but not `Sync`, and every call that changes it takes
//! `&mut self`, so borrowed views (tokens, logits) cannot outlive a change.
//! The one call allowed from any thread at any time, cancel, is reached
//! through a `CancelHandle`, which keeps the C session alive while it exists.
use std::cell::Cell;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::ptr::NonNull;
use std::sync::Arc;

use ernie_sys as sys;

use crate::callbacks::{EventFn, GenerationCallbacks, LogSink, ToolFn};
use crate::chat::{format_arg, ChatOptions, Message, RawChat, ToolCall};
use crate::error::{check, Error, ErrorKind, Result};
use crate::generate::{empty_result, slice_or_empty, Event, GenerateOptions, Generation, RawGenerateParams};
use crate::model::Model;
use crate::strings::{c_string, ptr_or_null};

/// Session sizes and threads. `Default` is the library's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionParams {
    /// Context length in tokens; 0 = min(model max, 4096).
    pub n_ctx: i32,
    /// Max tokens per forward pass (larger evals are split).
    pub n_batch: i32,
    /// 0 = the model's thread count.
    pub n_threads: i32,
    /// Storage of the KV cache.
    pub kv_type: KvType,
}

/// How the KV cache stores keys and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KvType {
    /// f32 for models with float weights, f16 for quantized ones.
    #[default]
    Auto,
    F32,
    /// Half the memory; ~5e-4 relative rounding of keys and values.
    F16,
}

impl Default for SessionParams {
    fn default() -> Self {
        let mut p = std::mem::MaybeUninit::<sys::ernie_session_params>::zeroed();
        // SAFETY: init fills every field.
        let p = unsafe {
            sys::ernie_session_params_init_sized(p.as_mut_ptr(), std::mem::size_of::<sys::ernie_session_params>());
            p.assume_init()
        };
        SessionParams { n_ctx: p.n_ctx, n_batch: p.n_batch, n_threads: p.n_threads, kv_type: KvType::Auto }
    }
}

/// The C session; freed when the Session and every CancelHandle are gone.
struct RawSession {
    ptr: NonNull<sys::ernie_session>,
    // The model's log sink: the library may log from this session's threads.
    _log: Option<Arc<LogSink>>,
}

// SAFETY: shared references to a RawSession are only used for
// ernie_session_cancel, which the C API allows from any thread at any time;
// every other call goes through the (non-Sync) Session's own reference.
unsafe impl Send for RawSession {}
unsafe impl Sync for RawSession {}

impl Drop for RawSession {
    fn drop(&mut self) {
        // SAFETY: last owner: no other call on this session can be running.
        unsafe { sys::ernie_session_free(self.ptr.as_ptr()) }
    }
}

/// A conversation's state: its KV cache, sampler and worker threads.
pub struct Session {
    raw: Arc<RawSession>,
    // Send but not Sync: calls on one session must not overlap.
    _not_sync: PhantomData<Cell<()>>,
}

/// Stops the generation running on a session from any thread
/// (`FinishReason::Cancelled`). Harmless when none runs, or after the
/// session was dropped.
#[derive(Clone)]
pub struct CancelHandle {
    raw: Arc<RawSession>,
}

impl CancelHandle {
    pub fn cancel(&self) {
        // SAFETY: the Arc keeps the session alive; cancel is thread-safe.
        unsafe { sys::ernie_session_cancel(self.raw.ptr.as_ptr()) };
    }
}

impl Session {
    /// A session over `model` (also `Model::session`).
    pub fn new(model: &Model, params: &SessionParams) -> Result<Session> {
        let mut p = std::mem::MaybeUninit::<sys::ernie_session_params>::zeroed();
        // SAFETY: init fills every field.
        let mut p = unsafe {
            sys::ernie_session_params_init_sized(p.as_mut_ptr(), std::mem::size_of::<sys::ernie_session_params>());
            p.assume_init()
        };
        p.n_ctx = params.n_ctx;
        p.n_batch = params.n_batch;
        p.n_threads = params.n_threads;
        p.kv_type = match params.kv_type {
            KvType::Auto => sys::ERNIE_KV_AUTO,
            KvType::F32 => sys::ERNIE_KV_F32,
            KvType::F16 => sys::ERNIE_KV_F16,
        };
        let mut raw = std::ptr::null_mut();
        // SAFETY: valid model; thread-safe with respect to the model.
        check(unsafe { sys::ernie_session_create(model.as_ptr(), &p, &mut raw) })?;
        let ptr = NonNull::new(raw).ok_or_else(|| Error::new(ErrorKind::Internal, "no session returned"))?;
        Ok(Session { raw: Arc::new(RawSession { ptr, _log: model.log_sink() }), _not_sync: PhantomData })
    }

    fn ptr(&self) -> *mut sys::ernie_session {
        self.raw.ptr.as_ptr()
    }

    /// A handle that cancels this session's generation from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { raw: self.raw.clone() }
    }

    /// Appends `tokens` to the context and runs the model over them.
    /// `all_logits`: keep every token's logits, not only the last one's.
    pub fn eval(&mut self, tokens: &[i32], all_logits: bool) -> Result<()> {
        let flags = if all_logits { sys::ERNIE_EVAL_ALL_LOGITS } else { 0 };
        // SAFETY: exclusive access; tokens valid for the call.
        check(unsafe { sys::ernie_session_eval(self.ptr(), tokens.as_ptr(), tokens.len(), flags) })
    }

    /// Logits of token `index` of the last eval (-1: its last token).
    pub fn logits(&self, index: i64) -> Result<&[f32]> {
        let (mut p, mut n) = (std::ptr::null(), 0usize);
        // SAFETY: not Sync, so no call overlaps; the buffer lives until the
        // next change, which needs `&mut self` and so ends this borrow.
        check(unsafe { sys::ernie_session_logits(self.ptr(), index, &mut p, &mut n) })?;
        Ok(unsafe { slice_or_empty(p, n) })
    }

    /// Number of tokens in the context.
    pub fn n_past(&self) -> Result<i64> {
        let mut n = 0i64;
        // SAFETY: valid session and out-pointer.
        check(unsafe { sys::ernie_session_n_past(self.ptr(), &mut n) })?;
        Ok(n)
    }

    /// The context's tokens (borrowed until the session changes).
    pub fn tokens(&self) -> Result<&[i32]> {
        let (mut p, mut n) = (std::ptr::null(), 0usize);
        // SAFETY: as in `logits`.
        check(unsafe { sys::ernie_session_tokens(self.ptr(), &mut p, &mut n) })?;
        Ok(unsafe { slice_or_empty(p, n) })
    }

    /// Forgets every context token from position `n_keep` on.
    pub fn truncate(&mut self, n_keep: i64) -> Result<()> {
        // SAFETY: exclusive access.
        check(unsafe { sys::ernie_session_truncate(self.ptr(), n_keep) })
    }

    /// Forgets the whole context.
    pub fn reset(&mut self) -> Result<()> {
        // SAFETY: exclusive access.
        check(unsafe { sys::ernie_session_reset(self.ptr()) })
    }

    /// Serializes the context (tokens and KV cache) into a blob.
    pub fn save(&self) -> Result<Vec<u8>> {
        let (mut blob, mut size) = (std::ptr::null_mut(), 0usize);
        // SAFETY: valid out-pointers; the blob is copied then freed with ernie_free.
        check(unsafe { sys::ernie_session_save(self.ptr(), &mut blob, &mut size) })?;
        let bytes = unsafe { slice_or_empty(blob as *const u8, size) }.to_vec();
        unsafe { sys::ernie_free(blob) };
        Ok(bytes)
    }

    /// Replaces the context with a saved one (refused, session unchanged, if
    /// it is from another model, damaged or too large).
    pub fn restore(&mut self, blob: &[u8]) -> Result<()> {
        // SAFETY: exclusive access; blob valid for the call.
        check(unsafe { sys::ernie_session_restore(self.ptr(), blob.as_ptr() as *const c_void, blob.len()) })
    }

    /// Generates a continuation of `prompt` (the session's whole context; the
    /// cache is reused for the common prefix).
    pub fn generate(&mut self, prompt: &[i32], opts: &GenerateOptions) -> Result<Generation> {
        self.generate_impl(prompt, opts, None)
    }

    /// `generate`, streaming events to `on_event` (on this thread). Return
    /// `ControlFlow::Break(())` to stop (`FinishReason::Cancelled`). A panic
    /// in `on_event` stops generation and is resumed from this call.
    pub fn generate_stream<F>(&mut self, prompt: &[i32], opts: &GenerateOptions, mut on_event: F) -> Result<Generation>
    where
        F: FnMut(&Event<'_>) -> ControlFlow<()>,
    {
        self.generate_impl(prompt, opts, Some(&mut on_event))
    }

    fn generate_impl(
        &mut self,
        prompt: &[i32],
        opts: &GenerateOptions,
        on_event: Option<&mut EventFn<'_>>,
    ) -> Result<Generation> {
        let mut params = RawGenerateParams::new(opts)?;
        let mut cb = GenerationCallbacks::new(on_event.map(|f| f as &mut EventFn<'_>), None);
        let raw = params.raw(&mut cb as *mut GenerationCallbacks as *mut c_void, false);
        let mut result = empty_result();
        // SAFETY: exclusive access; params, callbacks and prompt outlive the call.
        let status =
            unsafe { sys::ernie_session_generate(self.ptr(), prompt.as_ptr(), prompt.len(), raw, &mut result) };
        cb.finish(status)?;
        // SAFETY: a successful call filled `result`; nothing changed the session since.
        Ok(unsafe { Generation::from_raw(&result) })
    }

    /// Renders `messages` (the whole conversation) in the model's chat format
    /// and generates the assistant's answer. Tools with handlers in `chat` are
    /// run automatically; without handlers, calls end the turn
    /// (`FinishReason::ToolCalls`).
    pub fn chat(
        &mut self,
        messages: &[Message],
        chat: &mut ChatOptions<'_>,
        opts: &GenerateOptions,
    ) -> Result<Generation> {
        self.chat_impl(messages, chat, opts, None)
    }

    /// `chat`, streaming events to `on_event` (see `generate_stream`).
    pub fn chat_stream<F>(
        &mut self,
        messages: &[Message],
        chat: &mut ChatOptions<'_>,
        opts: &GenerateOptions,
        mut on_event: F,
    ) -> Result<Generation>
    where
        F: FnMut(&Event<'_>) -> ControlFlow<()>,
    {
        self.chat_impl(messages, chat, opts, Some(&mut on_event))
    }

    fn chat_impl(
        &mut self,
        messages: &[Message],
        chat: &mut ChatOptions<'_>,
        opts: &GenerateOptions,
        on_event: Option<&mut EventFn<'_>>,
    ) -> Result<Generation> {
        let raw_chat = RawChat::new(messages, Some(chat))?;
        let automatic = chat.has_handlers();
        let mut dispatch = |call: &ToolCall| chat.dispatch(call);
        let on_tool = if automatic { Some(&mut dispatch as &mut ToolFn<'_>) } else { None };
        let mut params = RawGenerateParams::new(opts)?;
        let mut cb = GenerationCallbacks::new(on_event.map(|f| f as &mut EventFn<'_>), on_tool);
        let raw = params.raw(&mut cb as *mut GenerationCallbacks as *mut c_void, automatic);
        let (m, n) = raw_chat.messages();
        let mut result = empty_result();
        // SAFETY: exclusive access; every pointer is owned by a local that outlives the call.
        let status = unsafe { sys::ernie_session_chat(self.ptr(), m, n, raw_chat.params(), raw, &mut result) };
        cb.finish(status)?;
        Ok(unsafe { Generation::from_raw(&result) })
    }

    /// `chat` with the conversation as one JSON document
    /// (`{"messages": [...], "tools": [...], ...}`); tool calls are reported.
    pub fn chat_json(
        &mut self,
        conversation_json: &str,
        format: Option<&str>,
        opts: &GenerateOptions,
    ) -> Result<Generation> {
        let conv = c_string("conversation JSON", conversation_json)?;
        let format = format_arg(format)?;
        let mut params = RawGenerateParams::new(opts)?;
        let mut cb = GenerationCallbacks::new(None, None);
        let raw = params.raw(&mut cb as *mut GenerationCallbacks as *mut c_void, false);
        let mut result = empty_result();
        // SAFETY: as in chat_impl.
        let status =
            unsafe { sys::ernie_session_chat_json(self.ptr(), conv.as_ptr(), ptr_or_null(&format), raw, &mut result) };
        cb.finish(status)?;
        Ok(unsafe { Generation::from_raw(&result) })
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("raw", &self.raw.ptr).finish()
    }
}
