//! Every published package, packaged as crates.io would receive it, builds from its `.crate`
//! alone: `cargo package` verifies each one in a directory of its own, the builder against the
//! core packaged in the same run (not the path dependency). Members are found with
//! `cargo metadata`, so a new published crate is packaged without a change here.

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::packages;

pub(super) fn run() -> StepResult {
    let packages = packages::published()?;
    if packages.is_empty() {
        return Ok(Done::Skipped("no member is published".to_owned()));
    }
    let selection: Vec<&str> = packages
        .iter()
        .flat_map(|package| ["-p", package.name.as_str()])
        .collect();
    // `--allow-dirty`: the gate runs before a change is committed; the packages are built from
    // the files as they are.
    Cmd::cargo()
        .args(&["package", "--locked", "--allow-dirty"])
        .args(&selection)
        .run()?;
    // The dry run adds the registry's own checks to the packaging above, which it would only
    // repeat (hence `--no-verify`). It needs the registry's index; a failure here is reported, not
    // fatal, because the packages have already been built from their `.crate` files.
    let dry_run = Cmd::cargo()
        .args(&[
            "publish",
            "--dry-run",
            "--locked",
            "--allow-dirty",
            "--no-verify",
        ])
        .args(&selection);
    if let Err(err) = dry_run.run() {
        return Ok(Done::Partly(format!(
            "no publish dry run: {err} (it needs the registry's index, and cargo 1.90 or later \
             to publish several packages at once)"
        )));
    }
    Ok(Done::Passed)
}
