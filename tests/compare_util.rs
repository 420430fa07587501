//! Running `mcload compare`, for the compare tests of both test binaries.

use std::path::PathBuf;
use std::process::Output;

use crate::util::mcload;

/// `mcload compare --base BASE... --cand CAND... EXTRA...`.
pub fn compare(base: &[PathBuf], cand: &[PathBuf], extra: &[&str]) -> Output {
    mcload()
        .arg("compare")
        .arg("--base")
        .args(base)
        .arg("--cand")
        .args(cand)
        .args(extra)
        .output()
        .unwrap()
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
