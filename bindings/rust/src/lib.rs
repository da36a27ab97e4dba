//! Safe Rust bindings for ernie, the ERNIE 4.5 inference SDK.
//!
//! ```no_run
//! use ernie::{GenerateOptions, Message, Model, Sampling, SessionParams, ChatOptions};
//! use std::ops::ControlFlow;
//!
//! let model = Model::load("model.ernie")?;
//! let mut session = model.session(&SessionParams::default())?;
//! let opts = GenerateOptions { sampling: Some(Sampling::seeded(7)), max_tokens: 64, ..Default::default() };
//! let answer = session.chat_stream(&[Message::user("Hello!")], &mut ChatOptions::default(), &opts, |event| {
//!     print!("{}", event.text);
//!     ControlFlow::Continue(())
//! })?;
//! println!("\n{:?}, {} tokens", answer.finish_reason, answer.tokens.len());
//! # Ok::<(), ernie::Error>(())
//! ```
//!
//! Ownership follows the C API (include/ernie.h): a [`Model`] is immutable,
//! `Send + Sync` and shared by any number of [`Session`]s; a `Session` is
//! `Send` but not `Sync` (one call at a time), and its borrowed views
//! (tokens, logits) end at the next call that changes it. Use-after-free and
//! double free cannot be written:
//!
//! ```compile_fail
//! let model = ernie::Model::load("m.ernie").unwrap();
//! drop(model);
//! model.info(); // use after drop: does not compile
//! ```
//!
//! ```compile_fail
//! let model = ernie::Model::load("m.ernie").unwrap();
//! let mut session = model.session(&Default::default()).unwrap();
//! let tokens = session.tokens().unwrap();
//! session.reset().unwrap(); // would invalidate `tokens`: does not compile
//! println!("{tokens:?}");
//! ```
//!
//! ```compile_fail
//! fn shared<T: Sync>(_: &T) {}
//! let model = ernie::Model::load("m.ernie").unwrap();
//! let session = model.session(&Default::default()).unwrap();
//! shared(&session); // a Session is not Sync: does not compile
//! ```
//!
//! Every entry point first checks, once, that the loaded library's ABI
//! version and struct layouts match the mirrors in `ernie-sys`
//! ([`check_abi`]); a mismatch is an [`ErrorKind::AbiMismatch`] error.
mod abi;
mod callbacks;
mod chat;
mod error;
mod generate;
mod model;
mod pack;
mod session;
mod strings;

pub use abi::check_abi;
pub use chat::{ChatOptions, Message, Tool, ToolCall, ToolChoice, ToolHandler, ToolOutcome};
pub use error::{status_name, Error, ErrorKind, Result};
pub use generate::{Event, EventKind, FinishReason, GenerateOptions, Generation, Reasoning, Sampling, TokenLogprob};
pub use model::{LogFn, LogLevel, Model, ModelInfo, ModelParams};
pub use pack::{pack, pack_with_progress, PackOptions, PackType};
pub use session::{CancelHandle, KvType, Session, SessionParams};

/// The raw declarations, for what the safe layer does not cover.
pub use ernie_sys as sys;

/// The library's version as "MAJOR.MINOR.PATCH".
pub fn version() -> String {
    // SAFETY: a static, never-NULL string.
    unsafe { std::ffi::CStr::from_ptr(sys::ernie_version_string()) }.to_string_lossy().into_owned()
}

/// The library's ABI version (this binding needs `sys::ERNIE_ABI_VERSION`).
pub fn abi_version() -> u32 {
    // SAFETY: no preconditions.
    unsafe { sys::ernie_abi_version() }
}
