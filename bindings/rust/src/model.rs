//! `Model`: a loaded packed model file, its tokenizer and chat formats.
use std::ffi::{c_void, CStr};
use std::ops::ControlFlow;
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use ernie_sys as sys;

use crate::abi::check_abi;
use crate::callbacks::{log_trampoline, progress_trampoline, LogSink, ProgressCallback, ProgressFn};
use crate::chat::{format_arg, ChatOptions, Message, RawChat};
use crate::error::{check, Error, Result};
use crate::session::{Session, SessionParams};
use crate::strings::{c_string, ptr_or_null, take_library_text};

/// Level of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl LogLevel {
    pub(crate) fn from_raw(level: i32) -> LogLevel {
        match level {
            sys::ERNIE_LOG_ERROR => LogLevel::Error,
            sys::ERNIE_LOG_WARN => LogLevel::Warn,
            sys::ERNIE_LOG_INFO => LogLevel::Info,
            _ => LogLevel::Debug,
        }
    }
    fn raw(self) -> i32 {
        match self {
            LogLevel::Error => sys::ERNIE_LOG_ERROR,
            LogLevel::Warn => sys::ERNIE_LOG_WARN,
            LogLevel::Info => sys::ERNIE_LOG_INFO,
            LogLevel::Debug => sys::ERNIE_LOG_DEBUG,
        }
    }
}

/// A log sink: level and message, from any of the library's threads.
pub type LogFn = dyn Fn(LogLevel, &str) + Send + Sync;

/// How a model is loaded. `Default` is the library's defaults.
#[derive(Clone, Default)]
pub struct ModelParams {
    /// Compute threads; 0 = number of physical cores.
    pub n_threads: i32,
    /// `false`: read the file into memory instead of mapping it.
    pub no_mmap: bool,
    /// "auto" (`None`) or "cpu".
    pub backend: Option<String>,
    /// Log sink, called from any of the library's threads while the model or
    /// one of its sessions lives. A panic in it is caught and dropped.
    pub log: Option<Arc<LogFn>>,
    /// Highest level passed to `log` (default `Warn`).
    pub log_level: Option<LogLevel>,
    /// Resource limits (docs/security.md); 0 = none. Going past one is
    /// `ErrorKind::OutOfMemory`. Largest model file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Largest session context (also caps the default).
    pub max_context: i32,
    /// Bytes all sessions of the model may hold together.
    pub session_memory_budget: u64,
}

impl std::fmt::Debug for ModelParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelParams")
            .field("n_threads", &self.n_threads)
            .field("no_mmap", &self.no_mmap)
            .field("backend", &self.backend)
            .field("log", &self.log.is_some())
            .field("log_level", &self.log_level)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("max_context", &self.max_context)
            .field("session_memory_budget", &self.session_memory_budget)
            .finish()
    }
}

/// Architecture and sizes of a loaded model (`ernie_model_info`).
pub type ModelInfo = sys::ernie_model_info;

/// A loaded model: immutable, so it is `Send + Sync` and any number of
/// sessions (on any threads) may share it. Sessions keep the underlying C
/// model alive, so a `Model` may be dropped before its sessions.
pub struct Model {
    raw: NonNull<sys::ernie_model>,
    log: Option<Arc<LogSink>>,
}

// SAFETY: the C API documents every model function as thread-safe; the model
// is immutable after load. Freeing needs `self` by value (Drop).
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// Loads a packed model file with default parameters.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        Model::load_with(path, &ModelParams::default(), None)
    }

    /// Loads with `params`; `progress` (fraction in [0, 1]) may return
    /// `ControlFlow::Break(())` to cancel (`ErrorKind::Cancelled`).
    pub fn load_with(
        path: impl AsRef<Path>,
        params: &ModelParams,
        progress: Option<&mut dyn FnMut(f32) -> ControlFlow<()>>,
    ) -> Result<Model> {
        check_abi()?;
        let path = path_arg("model path", path.as_ref())?;
        let backend = crate::strings::c_string_opt("backend", params.backend.as_deref())?;
        let log = params.log.clone().map(|f| Arc::new(LogSink(Box::new(move |l, m| f(l, m)))));
        let mut p = std::mem::MaybeUninit::<sys::ernie_model_params>::zeroed();
        // SAFETY: init fills every field.
        let mut p = unsafe {
            sys::ernie_model_params_init_sized(p.as_mut_ptr(), std::mem::size_of::<sys::ernie_model_params>());
            p.assume_init()
        };
        p.n_threads = params.n_threads;
        p.use_mmap = if params.no_mmap { 0 } else { 1 };
        p.backend = ptr_or_null(&backend);
        p.max_file_bytes = params.max_file_bytes;
        p.max_context = params.max_context;
        p.session_memory_budget = params.session_memory_budget;
        if let Some(level) = params.log_level {
            p.log_level = level.raw();
        }
        if let Some(sink) = &log {
            p.log = Some(log_trampoline);
            p.log_user_data = Arc::as_ptr(sink) as *mut c_void;
        }
        let mut progress_cb = progress.map(|f| ProgressCallback::new(f as &mut ProgressFn<'_>));
        if let Some(cb) = progress_cb.as_mut() {
            p.progress = Some(progress_trampoline);
            p.progress_user_data = cb as *mut ProgressCallback as *mut c_void;
        }
        let mut raw = std::ptr::null_mut();
        // SAFETY: valid path and params; everything they point to outlives the call.
        let status = unsafe { sys::ernie_model_load(path.as_ptr(), &p, &mut raw) };
        match progress_cb {
            Some(cb) => cb.finish(status)?,
            None => check(status)?,
        }
        let raw = NonNull::new(raw)
            .ok_or_else(|| Error::new(crate::ErrorKind::Internal, "ernie_model_load returned no model"))?;
        Ok(Model { raw, log })
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::ernie_model {
        self.raw.as_ptr()
    }

    pub(crate) fn log_sink(&self) -> Option<Arc<LogSink>> {
        self.log.clone()
    }

    /// A new session (its own KV cache) over this model.
    pub fn session(&self, params: &SessionParams) -> Result<Session> {
        Session::new(self, params)
    }

    pub fn info(&self) -> Result<ModelInfo> {
        let mut info = ModelInfo { struct_size: std::mem::size_of::<ModelInfo>(), ..Default::default() };
        // SAFETY: valid model; info's struct_size bounds what is written.
        check(unsafe { sys::ernie_model_get_info(self.as_ptr(), &mut info) })?;
        Ok(info)
    }

    /// The packed file's metadata JSON (borrowed from the model).
    pub fn metadata(&self) -> Result<&str> {
        let mut p: *const c_char = std::ptr::null();
        // SAFETY: valid model; the text lives until the model is freed, which
        // the returned borrow of `self` outlasts.
        check(unsafe { sys::ernie_model_metadata(self.as_ptr(), &mut p) })?;
        unsafe { CStr::from_ptr(p) }
            .to_str()
            .map_err(|_| Error::new(crate::ErrorKind::Internal, "model metadata is not UTF-8"))
    }

    /// Verifies every tensor's checksum (`ErrorKind::Checksum` names the first bad one).
    pub fn verify(&self) -> Result<()> {
        // SAFETY: valid model, no callback.
        check(unsafe { sys::ernie_model_verify(self.as_ptr(), None, std::ptr::null_mut()) })
    }

    /// Bytes a session of `n_ctx` tokens needs beyond the weights.
    pub fn session_bytes(&self, n_ctx: i32, n_batch: i32) -> Result<u64> {
        let mut n = 0u64;
        // SAFETY: valid model and out-pointer.
        check(unsafe { sys::ernie_model_session_bytes(self.as_ptr(), n_ctx, n_batch, &mut n) })?;
        Ok(n)
    }

    /// Token ids of `text` (no BOS). `parse_special`: special pieces written in
    /// the text become control tokens — only for text the application wrote.
    pub fn tokenize(&self, text: &str, parse_special: bool) -> Result<Vec<i32>> {
        let flags = if parse_special { sys::ERNIE_TOKENIZE_PARSE_SPECIAL } else { 0 };
        let mut ids: Vec<i32> = Vec::new();
        loop {
            let mut n = 0usize;
            // SAFETY: text is len bytes; ids has `capacity` writable slots.
            let status = unsafe {
                sys::ernie_tokenize(
                    self.as_ptr(),
                    text.as_ptr() as *const c_char,
                    text.len(),
                    flags,
                    ids.as_mut_ptr(),
                    ids.capacity(),
                    &mut n,
                )
            };
            if status == sys::ERNIE_E_BUFFER_TOO_SMALL && n > ids.capacity() {
                ids.reserve_exact(n);
                continue;
            }
            check(status)?;
            // SAFETY: the library wrote n <= capacity ids.
            unsafe { ids.set_len(n.min(ids.capacity())) };
            return Ok(ids);
        }
    }

    /// The bytes of `ids` (ids that cut a UTF-8 character yield raw bytes).
    pub fn detokenize_bytes(&self, ids: &[i32]) -> Result<Vec<u8>> {
        let mut buf: Vec<u8> = Vec::with_capacity(ids.len() * 4 + 16);
        loop {
            let mut n = 0usize;
            // SAFETY: ids valid; buf has `capacity` writable bytes (text + NUL).
            let status = unsafe {
                sys::ernie_detokenize(
                    self.as_ptr(),
                    ids.as_ptr(),
                    ids.len(),
                    buf.as_mut_ptr() as *mut c_char,
                    buf.capacity(),
                    &mut n,
                )
            };
            if status == sys::ERNIE_E_BUFFER_TOO_SMALL && n + 1 > buf.capacity() {
                buf.reserve_exact(n + 1);
                continue;
            }
            check(status)?;
            // SAFETY: n bytes (plus a NUL we drop) were written.
            unsafe { buf.set_len(n.min(buf.capacity())) };
            return Ok(buf);
        }
    }

    /// The text of `ids`; invalid UTF-8 is an error (see `detokenize_bytes`).
    pub fn detokenize(&self, ids: &[i32]) -> Result<String> {
        String::from_utf8(self.detokenize_bytes(ids)?)
            .map_err(|_| Error::invalid_argument("the tokens do not decode to valid UTF-8 (use detokenize_bytes)"))
    }

    /// The prompt text `messages` render to, exactly as the chat template does.
    pub fn chat_render(&self, messages: &[Message], opts: Option<&ChatOptions<'_>>) -> Result<String> {
        let chat = RawChat::new(messages, opts)?;
        let (m, n) = chat.messages();
        let (mut text, mut len) = (std::ptr::null_mut(), 0usize);
        // SAFETY: the mirrors and their strings live in `chat` for the call.
        check(unsafe { sys::ernie_chat_render(self.as_ptr(), m, n, chat.params(), &mut text, &mut len) })?;
        // SAFETY: library text of len bytes, freed with ernie_free.
        Ok(unsafe { take_library_text(text, len) })
    }

    /// Renders a conversation given as one JSON document
    /// (`{"messages": [...], "tools": [...], ...}`).
    pub fn chat_render_json(&self, conversation_json: &str, format: Option<&str>) -> Result<String> {
        let conv = c_string("conversation JSON", conversation_json)?;
        let format = format_arg(format)?;
        let (mut text, mut len) = (std::ptr::null_mut(), 0usize);
        // SAFETY: valid strings for the call.
        check(unsafe {
            sys::ernie_chat_render_json(self.as_ptr(), conv.as_ptr(), ptr_or_null(&format), &mut text, &mut len)
        })?;
        Ok(unsafe { take_library_text(text, len) })
    }

    /// Parses model output into `{"reasoning_content", "content", "tool_calls", "invalid_tool_calls"}` JSON.
    pub fn chat_parse(&self, output: &str, format: Option<&str>) -> Result<String> {
        let format = format_arg(format)?;
        let (mut json, mut len) = (std::ptr::null_mut(), 0usize);
        // SAFETY: output is len bytes; format valid for the call.
        check(unsafe {
            sys::ernie_chat_parse(
                self.as_ptr(),
                ptr_or_null(&format),
                output.as_ptr() as *const c_char,
                output.len(),
                &mut json,
                &mut len,
            )
        })?;
        Ok(unsafe { take_library_text(json, len) })
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: owned handle, freed once; sessions hold their own reference.
        // `self.log` drops after this, and sessions keep their own clone.
        unsafe { sys::ernie_model_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("raw", &self.raw).finish()
    }
}

/// A path as a C string (any bytes but NUL).
pub(crate) fn path_arg(what: &str, path: &Path) -> Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::invalid_argument(format!("{what} contains a NUL byte")))
}
