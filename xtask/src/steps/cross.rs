//! `cargo check` and clippy of the library crates for the platforms this machine is not, so that
//! code behind `cfg(target_os = ...)` (the macOS `errSecIO` classification, the Windows store) is
//! compiled on every run.

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::tools;

const TARGETS: &[&str] = &[
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "aarch64-linux-android",
];

/// One line per combination. ring's and aws-lc-rs's build scripts need a C cross-compiler for
/// these targets, so `tls-client-builder` is checked without a provider feature (the caller
/// supplies the `CryptoProvider`); all of our own code is still compiled. Only the libraries are
/// checked: the tests' dev-dependencies (rcgen) build ring too.
#[rustfmt::skip]
const FEATURE_SETS: &[(&str, &[&str])] = &[
    ("native-roots-cache", &[]),
    ("tls-client-builder", &["--no-default-features"]),
    ("tls-client-builder", &["--no-default-features", "--features", "webpki-roots"]),
    // Trust::Platform's operating-system verifiers (rustls-platform-verifier), and the metrics.
    ("tls-client-builder", &["--no-default-features", "--features", "platform-verifier,metrics"]),
];

pub(super) fn run() -> StepResult {
    if let Err(why) = tools::ensure_component("clippy", "clippy") {
        return Ok(Done::Skipped(why));
    }
    let missing = tools::ensure_targets(TARGETS);
    let targets: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|target| !missing.iter().any(|(m, _)| m == target))
        .collect();
    let why_missing = || {
        let missing: Vec<String> = missing
            .iter()
            .map(|(target, why)| format!("{target} ({why})"))
            .collect();
        format!("not checked for {}", missing.join(", "))
    };
    if targets.is_empty() {
        return Ok(Done::Skipped(why_missing()));
    }
    let target_args: Vec<&str> = targets
        .iter()
        .flat_map(|target| ["--target", *target])
        .collect();
    for (package, features) in FEATURE_SETS {
        Cmd::cargo()
            .args(&["check", "--locked", "-p", package])
            .args(features)
            .args(&target_args)
            .run()?;
        Cmd::cargo()
            .args(&["clippy", "--locked", "-p", package])
            .args(features)
            .args(&target_args)
            .args(&["--", "-D", "warnings"])
            .run()?;
    }
    if missing.is_empty() {
        Ok(Done::Passed)
    } else {
        Ok(Done::Partly(why_missing()))
    }
}
