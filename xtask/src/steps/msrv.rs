//! The `rust-version` each published package declares is real: it builds with that compiler.

use super::{Done, StepResult, feature_sets};
use crate::cmd::Cmd;
use crate::{packages, tools};

/// `cargo check` of the published packages only, without their tests: the MSRV is a promise to
/// users, and the tests' dev-dependencies (criterion) may need a newer compiler.
pub(super) fn run() -> StepResult {
    let mut unchecked = Vec::new();
    let mut checked = 0;
    for package in packages::published()? {
        let Some(version) = &package.rust_version else {
            unchecked.push(format!("{} declares no rust-version", package.name));
            continue;
        };
        if let Err(why) = tools::ensure_toolchain(version) {
            unchecked.push(format!("{}: {why}", package.name));
            continue;
        }
        for features in feature_sets(&package.name) {
            Cmd::cargo_with(version)
                .args(&["check", "--locked", "-p", &package.name])
                .args(features)
                .run()?;
        }
        checked += 1;
    }
    Ok(match (checked, unchecked.is_empty()) {
        (_, true) => Done::Passed,
        (0, false) => Done::Skipped(unchecked.join("; ")),
        _ => Done::Partly(unchecked.join("; ")),
    })
}
