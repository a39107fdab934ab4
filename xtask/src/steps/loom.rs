//! The core cache's state machine under loom: the model tests in `src/cache_loom.rs`, compiled with
//! `--cfg loom` (which swaps std's and arc-swap's primitives for loom's) in a target directory of
//! their own, so that the changed flags do not invalidate the normal build.

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::workspace;

pub(super) fn run() -> StepResult {
    let target_dir = workspace::target_dir().join("loom");
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
