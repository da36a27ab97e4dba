//! `ernie::Error`: a status and the library's one-sentence reason.
use std::ffi::CStr;
use std::fmt;

use ernie_sys as sys;

/// What kind of failure; mirrors the C `ernie_status` codes, plus the
/// binding's own load-time ABI check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidArgument,
    Io,
    InvalidModel,
    Checksum,
    Unsupported,
    OutOfMemory,
    Cancelled,
    ContextFull,
    BufferTooSmall,
    Backend,
    Internal,
    /// The library's ABI version or struct layouts differ from this binding's.
    AbiMismatch,
    /// A status this binding does not know (from a newer library).
    Other(i32),
}

impl ErrorKind {
    fn from_status(status: i32) -> ErrorKind {
        match status {
            sys::ERNIE_E_INVALID_ARGUMENT => ErrorKind::InvalidArgument,
            sys::ERNIE_E_IO => ErrorKind::Io,
            sys::ERNIE_E_INVALID_MODEL => ErrorKind::InvalidModel,
            sys::ERNIE_E_CHECKSUM => ErrorKind::Checksum,
            sys::ERNIE_E_UNSUPPORTED => ErrorKind::Unsupported,
            sys::ERNIE_E_OUT_OF_MEMORY => ErrorKind::OutOfMemory,
            sys::ERNIE_E_CANCELLED => ErrorKind::Cancelled,
            sys::ERNIE_E_CONTEXT_FULL => ErrorKind::ContextFull,
            sys::ERNIE_E_BUFFER_TOO_SMALL => ErrorKind::BufferTooSmall,
            sys::ERNIE_E_BACKEND => ErrorKind::Backend,
            sys::ERNIE_E_INTERNAL => ErrorKind::Internal,
            other => ErrorKind::Other(other),
        }
    }
}

/// A failed call: its kind, the C status code and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    status: i32,
    message: String,
}

impl Error {
    /// An error raised by the binding itself (bad argument, ABI mismatch).
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        let status = match kind {
            ErrorKind::AbiMismatch => sys::ERNIE_E_UNSUPPORTED,
            ErrorKind::InvalidArgument => sys::ERNIE_E_INVALID_ARGUMENT,
            _ => sys::ERNIE_E_INTERNAL,
        };
        Error { kind, status, message: message.into() }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// Builds the error for `status`, reading the calling thread's last-error
    /// message: call it right after the failed call, before any other.
    pub(crate) fn from_last(status: i32) -> Error {
        // SAFETY: ernie_last_error never returns NULL; the string is valid
        // until this thread's next call into the library, and copied here.
        let message = unsafe { CStr::from_ptr(sys::ernie_last_error()) }.to_string_lossy().into_owned();
        let message = if message.is_empty() { status_name(status) } else { message };
        Error { kind: ErrorKind::from_status(status), status, message }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The C `ernie_status` code.
    pub fn status(&self) -> i32 {
        self.status
    }

    /// The library's reason (names the argument, file, tensor or key at fault).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::AbiMismatch => write!(f, "ernie ABI mismatch: {}", self.message),
            _ => write!(f, "{} ({})", self.message, status_name(self.status)),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// The library's static name of a status, e.g. "ERNIE_E_IO: input/output error".
pub fn status_name(status: i32) -> String {
    // SAFETY: never NULL, static storage.
    unsafe { CStr::from_ptr(sys::ernie_status_string(status)) }.to_string_lossy().into_owned()
}

/// Turns a C status into a Result, reading the last error on failure.
pub(crate) fn check(status: i32) -> Result<()> {
    if status == sys::ERNIE_OK {
        Ok(())
    } else {
        Err(Error::from_last(status))
    }
}
