//! Packing a Hugging Face checkpoint into the ernie file format.
use std::ffi::c_void;
use std::ops::ControlFlow;
use std::path::Path;

use ernie_sys as sys;

use crate::abi::check_abi;
use crate::callbacks::{progress_trampoline, ProgressCallback, ProgressFn};
use crate::error::{check, Result};
use crate::model::path_arg;

/// The dtype weight matrices are stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PackType {
    /// Keep every tensor's checkpoint dtype.
    #[default]
    Auto,
    F32,
    F16,
    Bf16,
    /// Quantization recipes (a type per tensor role; docs/quantization.md).
    Q8,
    Q6,
    Q4,
    Q2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PackOptions {
    pub dtype: PackType,
    /// 0 = physical cores.
    pub n_threads: i32,
}

/// Converts the checkpoint directory `hf_dir` into one packed file at
/// `out_path`, atomically (on failure `out_path` is left as it was).
pub fn pack(hf_dir: impl AsRef<Path>, out_path: impl AsRef<Path>, opts: &PackOptions) -> Result<()> {
    pack_impl(hf_dir.as_ref(), out_path.as_ref(), opts, None)
}

/// `pack`, reporting progress in [0, 1]; `ControlFlow::Break(())` cancels
/// (nothing is written, `ErrorKind::Cancelled`).
pub fn pack_with_progress(
    hf_dir: impl AsRef<Path>,
    out_path: impl AsRef<Path>,
    opts: &PackOptions,
    progress: &mut dyn FnMut(f32) -> ControlFlow<()>,
) -> Result<()> {
    pack_impl(hf_dir.as_ref(), out_path.as_ref(), opts, Some(progress))
}

fn pack_impl(hf_dir: &Path, out_path: &Path, opts: &PackOptions, progress: Option<&mut ProgressFn<'_>>) -> Result<()> {
    check_abi()?;
    let hf_dir = path_arg("checkpoint directory", hf_dir)?;
    let out_path = path_arg("output path", out_path)?;
    let mut p = std::mem::MaybeUninit::<sys::ernie_pack_params>::zeroed();
    // SAFETY: init fills every field.
    let mut p = unsafe {
        sys::ernie_pack_params_init_sized(p.as_mut_ptr(), std::mem::size_of::<sys::ernie_pack_params>());
        p.assume_init()
    };
    p.type_ = match opts.dtype {
        PackType::Auto => sys::ERNIE_TYPE_AUTO,
        PackType::F32 => sys::ERNIE_TYPE_F32,
        PackType::F16 => sys::ERNIE_TYPE_F16,
        PackType::Bf16 => sys::ERNIE_TYPE_BF16,
        PackType::Q8 => sys::ERNIE_TYPE_Q8,
        PackType::Q6 => sys::ERNIE_TYPE_Q6,
        PackType::Q4 => sys::ERNIE_TYPE_Q4,
        PackType::Q2 => sys::ERNIE_TYPE_Q2,
    };
    p.n_threads = opts.n_threads;
    let mut cb = progress.map(|f| ProgressCallback::new(f as &mut ProgressFn<'_>));
    if let Some(cb) = cb.as_mut() {
        p.progress = Some(progress_trampoline);
        p.progress_user_data = cb as *mut ProgressCallback as *mut c_void;
    }
    // SAFETY: valid strings and params for the call.
    let status = unsafe { sys::ernie_pack(hf_dir.as_ptr(), out_path.as_ptr(), &p) };
    match cb {
        Some(cb) => cb.finish(status),
        None => check(status),
    }
}
