//! Moving strings across the C boundary: Rust text in as NUL-terminated
//! copies, library text out as owned Strings.
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};

use ernie_sys as sys;

use crate::error::{Error, Result};

/// A NUL-terminated copy of `s`; `what` names the argument in the error if
/// `s` holds a NUL byte (C would silently cut it there).
pub(crate) fn c_string(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid_argument(format!("{what} contains a NUL byte")))
}

pub(crate) fn c_string_opt(what: &str, s: Option<&str>) -> Result<Option<CString>> {
    s.map(|s| c_string(what, s)).transpose()
}

pub(crate) fn ptr_or_null(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

/// Copies a borrowed C string (NULL reads as "").
///
/// # Safety
/// `p` is NULL or a valid NUL-terminated string.
pub(crate) unsafe fn copy_c_str(p: *const c_char) -> String {
    copy_c_str_opt(p).unwrap_or_default()
}

/// # Safety
/// `p` is NULL or a valid NUL-terminated string.
pub(crate) unsafe fn copy_c_str_opt(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// Copies `len` bytes of text the library allocated, then frees it with ernie_free.
///
/// # Safety
/// `p` was returned by the library as "free with ernie_free" with `len` valid bytes.
pub(crate) unsafe fn take_library_text(p: *mut c_char, len: usize) -> String {
    if p.is_null() {
        return String::new();
    }
    let bytes = std::slice::from_raw_parts(p as *const u8, len).to_vec();
    sys::ernie_free(p as *mut c_void);
    String::from_utf8_lossy(&bytes).into_owned()
}
