//! The checks of the host build: formatting, clippy, tests and docs, over the feature matrix.

use super::{Done, StepResult, LIBRARY_FEATURE_SETS, TOOLING};
use crate::cmd::Cmd;
use crate::tools;

pub(super) fn fmt() -> StepResult {
    if let Err(why) = tools::ensure_component("fmt", "rustfmt") {
        return Ok(Done::Skipped(why));
    }
    Cmd::cargo().args(&["fmt", "--all", "--check"]).run()?;
    Ok(Done::Passed)
}

pub(super) fn clippy() -> StepResult {
    if let Err(why) = tools::ensure_component("clippy", "clippy") {
        return Ok(Done::Skipped(why));
    }
    for (package, features) in LIBRARY_FEATURE_SETS.iter().chain([&TOOLING]) {
        Cmd::cargo()
            .args(&["clippy", "--locked", "-p", package])
            .args(features)
            .args(&["--all-targets", "--", "-D", "warnings"])
            .run()?;
    }
    Ok(Done::Passed)
}

/// Unit and integration tests; the doctests run in the `doc` step. Tests that read the machine's
/// real trust store are `#[ignore]`d and run in their own CI job.
pub(super) fn test() -> StepResult {
    for (package, features) in LIBRARY_FEATURE_SETS.iter().chain([&TOOLING]) {
        Cmd::cargo()
            .args(&["test", "--locked", "-p", package])
            .args(features)
            .arg("--tests")
            .run()?;
    }
    Ok(Done::Passed)
}

pub(super) fn doc() -> StepResult {
    for (package, features) in LIBRARY_FEATURE_SETS {
        Cmd::cargo()
            .env("RUSTDOCFLAGS", "-D warnings")
            .args(&["doc", "--locked", "--no-deps", "-p", package])
            .args(features)
            .run()?;
        Cmd::cargo()
            .args(&["test", "--locked", "--doc", "-p", package])
            .args(features)
            .run()?;
    }
    Ok(Done::Passed)
}
