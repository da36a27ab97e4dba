//! The load-time ABI check: the library's version and struct layout table
//! (`ernie_abi_info`) must match the `#[repr(C)]` mirrors in ernie-sys, or
//! nothing is called with them. Runs once, before the first model, session
//! or pack call.
use std::ffi::CStr;
use std::sync::Mutex;

use ernie_sys as sys;
use sys::MirrorEntry;

use crate::error::{Error, ErrorKind, Result};

/// One row of the library's table, copied out of C.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LibraryEntry {
    pub struct_name: String,
    pub field_name: Option<String>,
    pub value: u64,
}

/// Verifies (once per process) that the loaded library is the ABI this
/// binding was written for. Every other entry point calls it first.
pub fn check_abi() -> Result<()> {
    // A Mutex, not OnceLock: the crate builds with Debian 12's Rust 1.63.
    static RESULT: Mutex<Option<Result<()>>> = Mutex::new(None);
    let mut result = RESULT.lock().unwrap_or_else(|e| e.into_inner());
    result
        .get_or_insert_with(|| {
            // SAFETY: plain getters with no preconditions.
            let version = unsafe { sys::ernie_abi_version() };
            library_table().and_then(|table| compare(version, &table, &sys::mirror_layout()))
        })
        .clone()
}

fn library_table() -> Result<Vec<LibraryEntry>> {
    let mut entries: *const sys::ernie_abi_entry = std::ptr::null();
    let mut count = 0usize;
    // SAFETY: valid out-pointers; the table is static and borrowed.
    let status = unsafe { sys::ernie_abi_info(&mut entries, &mut count) };
    if status != sys::ERNIE_OK || entries.is_null() {
        return Err(Error::new(ErrorKind::AbiMismatch, "ernie_abi_info failed: the library has no layout table"));
    }
    // SAFETY: `count` entries live as long as the library; names are static C strings.
    let rows = unsafe { std::slice::from_raw_parts(entries, count) };
    let text = |p: *const std::os::raw::c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    Ok(rows
        .iter()
        .map(|r| LibraryEntry {
            struct_name: text(r.struct_name),
            field_name: if r.field_name.is_null() { None } else { Some(text(r.field_name)) },
            value: r.value,
        })
        .collect())
}

/// The rule: same ABI version; every field offset of the mirrors appears in
/// the library's table with the same value; each struct is as large in the
/// library as here, or larger when it starts with `struct_size` (compatible
/// growth: fields appended in a newer library, which reads only the bytes we
/// declare). Structs without `struct_size` are read as arrays, so their size
/// must match exactly. Pure, so the mismatch path is testable.
pub(crate) fn compare(version: u32, table: &[LibraryEntry], mirror: &[MirrorEntry]) -> Result<()> {
    if version != sys::ERNIE_ABI_VERSION {
        return Err(Error::new(
            ErrorKind::AbiMismatch,
            format!(
                "libernie has ABI version {version} but this binding was written for ABI version {}; \
                 use a binding that matches the library (libernie.so.{version})",
                sys::ERNIE_ABI_VERSION
            ),
        ));
    }
    for want in mirror {
        let found =
            table.iter().find(|e| e.struct_name == want.struct_name && e.field_name.as_deref() == want.field_name);
        let what = match want.field_name {
            Some(f) => format!("offset of {}.{}", want.struct_name, f),
            None => format!("sizeof({})", want.struct_name),
        };
        match found {
            None => {
                return Err(Error::new(
                    ErrorKind::AbiMismatch,
                    format!(
                        "the library's layout table has no entry for the {what}; the binding is newer than the library"
                    ),
                ))
            }
            Some(e)
                if want.field_name.is_none() && e.value > want.value && has_struct_size(mirror, want.struct_name) => {}
            Some(e) if e.value != want.value => {
                return Err(Error::new(
                    ErrorKind::AbiMismatch,
                    format!(
                        "{what} is {} in the library but {} in this binding; \
                         the library and this binding's struct mirrors come from different versions of \
                         include/ernie.h: use a binding that matches the library",
                        e.value, want.value
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn has_struct_size(mirror: &[MirrorEntry], struct_name: &str) -> bool {
    mirror.iter().any(|m| m.struct_name == struct_name && m.field_name == Some("struct_size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_from_mirror() -> Vec<LibraryEntry> {
        sys::mirror_layout()
            .iter()
            .map(|m| LibraryEntry {
                struct_name: m.struct_name.to_string(),
                field_name: m.field_name.map(str::to_string),
                value: m.value,
            })
            .collect()
    }

    #[test]
    fn the_real_library_matches_the_mirrors() {
        check_abi().unwrap();
    }

    #[test]
    fn a_moved_field_is_refused_with_its_name() {
        let mut table = table_from_mirror();
        let row = table
            .iter_mut()
            .find(|e| e.struct_name == "ernie_generate_params" && e.field_name.as_deref() == Some("on_event"))
            .unwrap();
        row.value += 8;
        let err = compare(sys::ERNIE_ABI_VERSION, &table, &sys::mirror_layout()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AbiMismatch);
        assert!(err.message().contains("ernie_generate_params.on_event"), "{err}");
    }

    fn resize(struct_name: &str, delta: i64) -> Result<()> {
        let mut table = table_from_mirror();
        let row = table.iter_mut().find(|e| e.struct_name == struct_name && e.field_name.is_none()).unwrap();
        row.value = (row.value as i64 + delta) as u64;
        compare(sys::ERNIE_ABI_VERSION, &table, &sys::mirror_layout())
    }

    #[test]
    fn struct_sizes_allow_only_compatible_growth() {
        // Appended fields in a newer library: accepted (struct_size tells it what we have).
        resize("ernie_event", 8).unwrap();
        resize("ernie_session_params", 4).unwrap();
        // An older, smaller struct: refused.
        let err = resize("ernie_event", -8).unwrap_err();
        assert!(err.to_string().contains("sizeof(ernie_event)"), "{err}");
        // A struct read as an array (no struct_size) must not change at all.
        let err = resize("ernie_token_logprob", 8).unwrap_err();
        assert!(err.to_string().contains("sizeof(ernie_token_logprob)"), "{err}");
    }

    #[test]
    fn another_abi_version_is_refused() {
        let err = compare(sys::ERNIE_ABI_VERSION + 1, &table_from_mirror(), &sys::mirror_layout()).unwrap_err();
        assert!(err.message().contains("ABI version 2"), "{err}");
    }

    #[test]
    fn a_missing_row_is_refused() {
        let table: Vec<_> = table_from_mirror().into_iter().filter(|e| e.struct_name != "ernie_tool").collect();
        let err = compare(sys::ERNIE_ABI_VERSION, &table, &sys::mirror_layout()).unwrap_err();
        assert!(err.message().contains("ernie_tool"), "{err}");
    }
}
