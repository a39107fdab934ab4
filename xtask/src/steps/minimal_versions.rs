//! Every version requirement we write is honest: with each direct dependency at the lowest version
//! its requirement allows (nightly's `cargo update -Z direct-minimal-versions`; the dependencies
//! of our dependencies stay at their newest), the workspace builds and its tests pass.
//!
//! This runs in a copy of the workspace under `target/minimal-versions/`, with its own lock file
//! and target directory: the committed `Cargo.lock` and the normal build are never touched. The
//! copy holds the published crates only (and `test-pki`, which their tests use): a
//! `publish = false` member (the xtask, the client recipes) is never resolved by a user, and its own dependencies (reqwest needs a newer `log`
//! than our libraries do) would only make the minimal versions of ours conflict.

use std::fs;
use std::path::Path;

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::{packages, tools, workspace};

pub(super) fn run() -> StepResult {
    if let Err(why) = tools::ensure_nightly() {
        return Ok(Done::Skipped(why));
    }
    let home = workspace::target_dir().join("minimal-versions");
    let copy = home.join("workspace");
    copy_workspace(&copy)?;
    let manifest = workspace::shown(&copy.join("Cargo.toml"));
    let target_dir = workspace::shown(&home.join("target"));
    let hint = |err: String| {
        format!(
            "{err}; a requirement in a Cargo.toml is lower than what works: raise it to the lowest \
             version that does (try one in {manifest} with `cargo update -p NAME --precise VERSION`)"
        )
    };
    // Rewrites the copy's lock file only.
    Cmd::cargo_with("nightly")
        .args(&["update", "-Z", "direct-minimal-versions"])
        .args(&["--manifest-path", &manifest])
        .run()
        .map_err(hint)?;
    // With the toolchain that runs the other steps. Every feature, so that optional dependencies
    // (webpki-roots) are built at their lowest version too; every target, so that the benches'
    // and examples' dependencies are; then the tests, doctests included.
    let cargo = |args: &[&str]| {
        Cmd::cargo()
            .args(args)
            .args(&["--locked", "--workspace", "--all-features"])
            .args(&["--manifest-path", &manifest, "--target-dir", &target_dir])
    };
    cargo(&["test", "--all-targets", "--no-run"])
        .run()
        .map_err(hint)?;
    cargo(&["test"]).run().map_err(hint)?;
    Ok(Done::Passed)
}

/// A fresh copy at `to` of the files at the root (the manifest, the lock file, and the README a
/// crate may include) and of every member's directory, without any `target/` inside them.
fn copy_workspace(to: &Path) -> Result<(), String> {
    if to.exists() {
        fs::remove_dir_all(to)
            .map_err(|err| format!("could not remove {}: {err}", to.display()))?;
    }
    let root = workspace::root();
    let entries = fs::read_dir(root).map_err(|err| format!("{}: {err}", root.display()))?;
    for entry in entries {
        let entry = entry.map_err(|err| format!("{}: {err}", root.display()))?;
        // Not `.git`, which is a file in a git worktree.
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if entry.path().is_file() && !hidden {
            copy_file(&entry.path(), &to.join(entry.file_name()))?;
        }
    }
    // The published crates, and the test helpers their tests use (publish = false, but a
    // dev-dependency the copy must resolve).
    let mut published = packages::published()?;
    published.extend(
        packages::members()?
            .into_iter()
            .filter(|package| package.name == "test-pki"),
    );
    for package in &published {
        let relative = package.dir().strip_prefix(root).map_err(|_| {
            format!(
                "member {} is outside the workspace root ({})",
                package.name,
                package.dir().display()
            )
        })?;
        copy_dir(package.dir(), &to.join(relative))?;
    }
    only_members(&to.join("Cargo.toml"), &published)
}

/// Rewrite the copied root manifest's `members` and `default-members` to the published crates.
fn only_members(manifest: &Path, published: &[packages::Package]) -> Result<(), String> {
    let root = workspace::root();
    let list: Vec<String> = published
        .iter()
        .filter_map(|package| package.dir().strip_prefix(root).ok())
        .map(|dir| format!("{:?}", dir.to_string_lossy().replace('\\', "/")))
        .collect();
    let list = list.join(", ");
    let text = fs::read_to_string(manifest)
        .map_err(|err| format!("could not read {}: {err}", manifest.display()))?;
    let rewritten: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with("members = ") {
                format!("members = [{list}]")
            } else if line.starts_with("default-members = ") {
                format!("default-members = [{list}]")
            } else {
                line.to_owned()
            }
        })
        .collect();
    fs::write(manifest, rewritten.join("\n") + "\n")
        .map_err(|err| format!("could not write {}: {err}", manifest.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let entries = fs::read_dir(from).map_err(|err| format!("{}: {err}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|err| format!("{}: {err}", from.display()))?;
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&path, &to.join(entry.file_name()))?;
            }
        } else {
            copy_file(&path, &to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    }
    fs::copy(from, to).map(drop).map_err(|err| {
        format!(
            "could not copy {} to {}: {err}",
            from.display(),
            to.display()
        )
    })
}
