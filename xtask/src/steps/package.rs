//! Every published package, packaged as crates.io would receive it, builds from its `.crate`
//! alone: `cargo package` verifies each one in a directory of its own, the builder against the
//! core packaged in the same run (not the path dependency). Members are found with
//! `cargo metadata`, so a new published crate is packaged without a change here.

use std::fs;
use std::path::PathBuf;

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::packages::{self, Package};

pub(super) fn run() -> StepResult {
    let packages = packages::published()?;
    if packages.is_empty() {
        return Ok(Done::Skipped("no member is published".to_owned()));
    }
    let selection: Vec<&str> = packages
        .iter()
        .flat_map(|package| ["-p", package.name.as_str()])
        .collect();
    forget_unpacked_copies(&packages);
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

/// Remove what earlier runs unpacked of these packages from `cargo package`'s local registry.
///
/// The builder is verified against the core packaged in the same run, through a local registry
/// under the target directory; cargo unpacks each `.crate` of it into
/// `$CARGO_HOME/registry/src/-<hash of that path>/<name>-<version>` and reuses an unpacked
/// directory as it is. A clone at a path used before, with the same version numbers, would
/// then verify the builder against the core of that earlier run (seen here: "type `Check` is
/// not a member of trait `Watched`"). Only our own packages' directories, in local registries
/// (whose directory names start with `-`), are removed; crates.io's are not touched.
fn forget_unpacked_copies(packages: &[Package]) {
    let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
    else {
        return;
    };
    let Ok(registries) = fs::read_dir(home.join("registry").join("src")) else {
        return;
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for package in packages {
            let unpacked = registry
                .path()
                .join(format!("{}-{}", package.name, package.version));
            if unpacked.is_dir() {
                match fs::remove_dir_all(&unpacked) {
                    Ok(()) => println!("removed an earlier run's {}", unpacked.display()),
                    Err(err) => eprintln!("warning: cannot remove {}: {err}", unpacked.display()),
                }
            }
        }
    }
}
