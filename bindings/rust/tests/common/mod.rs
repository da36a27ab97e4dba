//! Shared by the integration tests: the repository's tiny checkpoints packed
//! once per test binary, and the C reference (the ernie CLI) to compare with.
#![allow(dead_code)]
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// tests/data/<name> packed with ernie::pack into cargo's per-target temp dir.
pub fn packed(name: &str) -> PathBuf {
    static DONE: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    let done = done.get_or_insert_with(HashMap::new);
    if let Some(p) = done.get(name) {
        return p.clone();
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.ernie"));
    // ernie_pack writes a temp file and renames it: concurrent packers are safe.
    ernie::pack(repo_root().join("tests/data").join(name), &out, &ernie::PackOptions::default())
        .unwrap_or_else(|e| panic!("packing {name}: {e}"));
    done.insert(name.to_string(), out.clone());
    out
}

pub fn model(name: &str) -> ernie::Model {
    ernie::Model::load(packed(name)).unwrap()
}

/// The ernie CLI next to the library the crate linked (ERNIE_CLI overrides).
pub fn cli() -> PathBuf {
    if let Some(p) = std::env::var_os("ERNIE_CLI") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("ERNIE_LIB_DIR_FOUND")).join("../bin/ernie");
    assert!(p.exists(), "the ernie CLI is not at {} (build it, or set ERNIE_CLI)", p.display());
    p
}

/// Runs `ernie run ... --json` and returns the "tokens" array it printed.
pub fn cli_run_tokens(args: &[&str]) -> Vec<i32> {
    let out = Command::new(cli()).arg("run").args(args).arg("--json").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ernie run failed: {}", String::from_utf8_lossy(&out.stderr));
    let start = stdout.find("\"tokens\": [").expect("no tokens in the CLI's JSON") + "\"tokens\": [".len();
    let end = start + stdout[start..].find(']').unwrap();
    stdout[start..end].split(',').filter(|s| !s.trim().is_empty()).map(|s| s.trim().parse().unwrap()).collect()
}
