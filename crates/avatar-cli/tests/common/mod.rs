//! Helpers shared by the CLI test binaries.

#![allow(dead_code, clippy::unwrap_used)] // each binary uses a part; a failure is the test failing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the `avatar` binary; gives its exit code and stderr.
pub fn avatar(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_avatar"))
        .args(args)
        .output()
        .expect("run avatar");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file below `dir`, sorted; none when `dir` does not exist (yet). Entries that vanish
/// while the walk runs (a temporary file renamed) are passed over.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// [`all_files`], as paths relative to `dir`.
pub fn files_under(dir: &Path) -> Vec<String> {
    all_files(dir)
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .collect()
}
