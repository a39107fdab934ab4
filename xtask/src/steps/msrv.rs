//! The `rust-version` declared in the workspace is real: the libraries build with it.

use super::{Done, StepResult, LIBRARY_FEATURE_SETS};
use crate::cmd::Cmd;
use crate::{tools, workspace};

/// The libraries only: the MSRV is a promise to users, and the tests' dev-dependencies
/// (criterion) may need a newer compiler.
pub(super) fn run() -> StepResult {
    let version = workspace::rust_version()?;
    if let Err(why) = tools::ensure_toolchain(&version) {
        return Ok(Done::Skipped(why));
    }
    for (package, features) in LIBRARY_FEATURE_SETS {
        Cmd::cargo_with(&version)
            .args(&["check", "--locked", "-p", package])
            .args(features)
            .run()?;
    }
    Ok(Done::Passed)
}
