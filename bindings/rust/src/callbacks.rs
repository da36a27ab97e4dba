//! Trampolines: the `extern "C"` functions the library calls, which forward to
//! Rust closures reached through `user_data`.
//!
//! A panic never unwinds into C: each trampoline catches it, tells the library
//! to stop (non-zero / ERNIE_TOOL_DEFER / cancel), and the payload is resumed
//! on the caller's side once the C call has returned and the library's state
//! is consistent again.
use std::any::Any;
use std::ops::ControlFlow;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use ernie_sys as sys;

use crate::chat::{ToolCall, ToolOutcome};
use crate::error::{check, Error, Result};
use crate::generate::Event;

pub(crate) type EventFn<'a> = dyn FnMut(&Event<'_>) -> ControlFlow<()> + 'a;
pub(crate) type ToolFn<'a> = dyn FnMut(&ToolCall) -> ToolOutcome + 'a;
pub(crate) type ProgressFn<'a> = dyn FnMut(f32) -> ControlFlow<()> + 'a;

/// What one generate/chat call's callbacks share (the `user_data` of both).
pub(crate) struct GenerationCallbacks<'a> {
    pub on_event: Option<&'a mut EventFn<'a>>,
    pub on_tool: Option<&'a mut ToolFn<'a>>,
    panic: Option<Box<dyn Any + Send>>,
    error: Option<Error>,
}

impl<'a> GenerationCallbacks<'a> {
    pub fn new(on_event: Option<&'a mut EventFn<'a>>, on_tool: Option<&'a mut ToolFn<'a>>) -> Self {
        GenerationCallbacks { on_event, on_tool, panic: None, error: None }
    }

    /// The C call's outcome: a closure's panic is resumed here, then a
    /// binding-side error, then the library's status.
    pub fn finish(self, status: i32) -> Result<()> {
        let checked = check(status); // reads the last error before anything else runs
        if let Some(payload) = self.panic {
            resume_unwind(payload);
        }
        if let Some(err) = self.error {
            return Err(err);
        }
        checked
    }
}

pub(crate) unsafe extern "C" fn event_trampoline(user_data: *mut c_void, event: *const sys::ernie_event) -> i32 {
    // SAFETY: user_data is the GenerationCallbacks the caller passed for this
    // call, alive and not otherwise borrowed until the call returns.
    let cb = &mut *(user_data as *mut GenerationCallbacks<'_>);
    if cb.panic.is_some() {
        return 1;
    }
    let f = match cb.on_event.as_mut() {
        Some(f) => f,
        None => return 0,
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| f(&Event::from_raw(&*event))));
    match outcome {
        Ok(ControlFlow::Continue(())) => 0,
        Ok(ControlFlow::Break(())) => 1,
        Err(payload) => {
            cb.panic = Some(payload);
            1
        }
    }
}

pub(crate) unsafe extern "C" fn tool_trampoline(
    user_data: *mut c_void,
    call: *const sys::ernie_tool_call,
    output: *mut sys::ernie_tool_output,
) -> i32 {
    // SAFETY: as in event_trampoline.
    let cb = &mut *(user_data as *mut GenerationCallbacks<'_>);
    if cb.panic.is_some() || cb.error.is_some() {
        return sys::ERNIE_TOOL_DEFER;
    }
    let f = match cb.on_tool.as_mut() {
        Some(f) => f,
        None => return sys::ERNIE_TOOL_DEFER,
    };
    match catch_unwind(AssertUnwindSafe(|| f(&ToolCall::from_raw(&*call)))) {
        Ok(ToolOutcome::Result(text)) => {
            let status = sys::ernie_tool_output_set(output, text.as_ptr() as *const c_char, text.len());
            if status == sys::ERNIE_OK {
                sys::ERNIE_TOOL_RESULT
            } else {
                cb.error = Some(Error::from_last(status));
                sys::ERNIE_TOOL_DEFER
            }
        }
        Ok(ToolOutcome::Defer) => sys::ERNIE_TOOL_DEFER,
        Err(payload) => {
            cb.panic = Some(payload);
            sys::ERNIE_TOOL_DEFER
        }
    }
}

/// A progress closure for one load/verify/pack call.
pub(crate) struct ProgressCallback<'a> {
    f: &'a mut ProgressFn<'a>,
    panic: Option<Box<dyn Any + Send>>,
}

impl<'a> ProgressCallback<'a> {
    pub fn new(f: &'a mut ProgressFn<'a>) -> Self {
        ProgressCallback { f, panic: None }
    }

    pub fn finish(self, status: i32) -> Result<()> {
        let checked = check(status);
        if let Some(payload) = self.panic {
            resume_unwind(payload);
        }
        checked
    }
}

pub(crate) unsafe extern "C" fn progress_trampoline(user_data: *mut c_void, progress: f32) -> i32 {
    // SAFETY: user_data is the ProgressCallback of the running call.
    let cb = &mut *(user_data as *mut ProgressCallback<'_>);
    if cb.panic.is_some() {
        return 1;
    }
    match catch_unwind(AssertUnwindSafe(|| (cb.f)(progress))) {
        Ok(ControlFlow::Continue(())) => 0,
        Ok(ControlFlow::Break(())) => 1,
        Err(payload) => {
            cb.panic = Some(payload);
            1
        }
    }
}

/// A model's log sink. It may be called from any of the library's threads
/// for as long as the C model lives (sessions included), so it is shared
/// (`Arc`) by the model and every session, and must be `Send + Sync`.
pub(crate) struct LogSink(pub Box<crate::model::LogFn>);

pub(crate) unsafe extern "C" fn log_trampoline(user_data: *mut c_void, level: i32, message: *const c_char) {
    // SAFETY: user_data is an Arc<LogSink> kept alive by the model and its sessions.
    let sink = &*(user_data as *const LogSink);
    let text = crate::strings::copy_c_str(message);
    // A panic here has nowhere to go (any thread, no caller to resume it on): it is dropped.
    let _ = catch_unwind(AssertUnwindSafe(|| (sink.0)(crate::LogLevel::from_raw(level), &text)));
}
