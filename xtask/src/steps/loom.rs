//! The core cache's state machine under loom: the shim enforced by clippy, then the model tests in
//! `src/cache/loom_tests.rs`, compiled with
//! `--cfg loom` (which swaps std's and arc-swap's primitives for loom's) in a target directory of
//! their own, so that the changed flags do not invalidate the normal build.

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::workspace;

pub(super) fn run() -> StepResult {
    let target_dir = workspace::target_dir().join("loom");
    // First the shim is enforced: under `--cfg loom`, a std primitive used beside `src/sync.rs`
    // would escape the model (`disallowed-types` in the crate's loom/clippy.toml).
    let clippy_conf = workspace::root().join("crates/native-roots-cache/loom");
    Cmd::cargo()
        .env("RUSTFLAGS", "--cfg loom")
        .env("CLIPPY_CONF_DIR", &clippy_conf.to_string_lossy())
        .args(&[
            "clippy",
            "--locked",
            "--release",
            "-p",
            "native-roots-cache",
            "--lib",
            "--target-dir",
            &target_dir.to_string_lossy(),
            "--",
            "-D",
            "clippy::disallowed_types",
        ])
        .run()?;
    Cmd::cargo()
        .env("RUSTFLAGS", "--cfg loom")
        .args(&[
            "test",
            "--locked",
            "--release",
            "-p",
            "native-roots-cache",
            "--lib",
            "--target-dir",
            &target_dir.to_string_lossy(),
            "loom",
        ])
        .run()?;
    Ok(Done::Passed)
}
