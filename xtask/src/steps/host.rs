//! The checks of the host build: formatting, clippy, tests and docs, over the feature matrix, for
//! every member `cargo metadata` lists (a new crate is checked without a change here).

use super::{Done, StepResult, feature_sets};
use crate::cmd::Cmd;
use crate::{packages, tools};

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
    for package in packages::members()? {
        for features in feature_sets(&package.name) {
            Cmd::cargo()
                .args(&["clippy", "--locked", "-p", &package.name])
                .args(features)
                .args(&["--all-targets", "--", "-D", "warnings"])
                .run()?;
        }
    }
    Ok(Done::Passed)
}

/// Unit and integration tests; the doctests run in the `doc` step. Tests that read the machine's
/// real trust store are `#[ignore]`d and run in their own CI job.
pub(super) fn test() -> StepResult {
    for package in packages::members()? {
        for features in feature_sets(&package.name) {
            Cmd::cargo()
                .args(&["test", "--locked", "-p", &package.name])
                .args(features)
                .arg("--tests")
                .run()?;
        }
    }
    Ok(Done::Passed)
}

/// The published libraries: what docs.rs builds. A binary-only package has no doctests to run.
pub(super) fn doc() -> StepResult {
    for package in packages::published()? {
        if package.targets("lib").next().is_none() {
            continue;
        }
        for features in feature_sets(&package.name) {
            Cmd::cargo()
                .env("RUSTDOCFLAGS", "-D warnings")
                .args(&["doc", "--locked", "--no-deps", "-p", &package.name])
                .args(features)
                .run()?;
            Cmd::cargo()
                .args(&["test", "--locked", "--doc", "-p", &package.name])
                .args(features)
                .run()?;
        }
    }
    Ok(Done::Passed)
}
