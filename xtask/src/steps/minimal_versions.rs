//! Every version requirement we write is honest: with each direct dependency at the lowest version
//! its requirement allows (nightly's `cargo update -Z direct-minimal-versions`), the workspace
//! builds and its tests pass.
//!
//! The dependencies of our dependencies are then put back where the committed `Cargo.lock` holds
//! them, where our lowered requirements allow: the update moves them to their newest, so without
//! this the step's verdict would change with each release of a crate we do not name (a gate that
//! passed yesterday failing today on an unchanged tree). What cannot be held back is said.
//!
//! This runs in a copy of the workspace under `target/minimal-versions/`, with its own lock file
//! and target directory: the committed `Cargo.lock` and the normal build are never touched. The
//! copy holds the published crates only (and `test-pki`, which their tests use): a
//! `publish = false` member (the xtask, the client recipes) is never resolved by a user, and its
//! own dependencies (reqwest needs a newer `log` than our libraries do) would only make the
//! minimal versions of ours conflict.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use super::cargo_output::{self, Cause, Moved};
use super::{Done, StepResult};
use crate::cmd::{Cmd, Logged};
use crate::{packages, tools, workspace};

/// Longer than a build from nothing and the tests take here (about 2 minutes on 2 cores).
const LIMIT: Duration = Duration::from_secs(40 * 60);

/// How long to wait before the one more try that a failed download earns.
const NETWORK_PAUSE: Duration = Duration::from_secs(30);

pub(super) fn run() -> StepResult {
    if let Err(why) = tools::ensure_nightly() {
        return Ok(Done::Skipped(why));
    }
    let home = workspace::target_dir().join("minimal-versions");
    let copy = home.join("workspace");
    copy_workspace(&copy)?;
    let manifest = workspace::shown(&copy.join("Cargo.toml"));
    let target_dir = workspace::shown(&home.join("target"));
    // Rewrites the copy's lock file only.
    let update = Cmd::cargo_with("nightly")
        .args(&["update", "-Z", "direct-minimal-versions"])
        .args(&["--manifest-path", &manifest]);
    let updated = run_with_one_retry(&update, &home.join("update.log"))?;
    let moved = hold_at_lock(&manifest, cargo_output::moved_up(&updated.output));
    // With the toolchain that runs the other steps. Every feature, so that optional dependencies
    // (webpki-roots) are built at their lowest version too; every target, so that the benches'
    // and examples' dependencies are; then the tests, doctests included.
    let cargo = |args: &[&str]| {
        Cmd::cargo()
            .args(args)
            .args(&["--locked", "--workspace", "--all-features"])
            .args(&["--manifest-path", &manifest, "--target-dir", &target_dir])
    };
    let hint = |err: String| {
        let mut hint = format!(
            "{err}\n  if the error is in a crate we require: that requirement is lower than what \
             works; raise it to the lowest version that does (try one in {manifest} with \
             `cargo update -p NAME --precise VERSION`)"
        );
        if !moved.is_empty() {
            hint.push_str(&format!(
                "\n  if it is in a crate we do not name: these are newer than in Cargo.lock \
                 (our lowest requirements need them so), a new release among them may be the \
                 cause: {}",
                moved
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        hint
    };
    run_with_one_retry(
        &cargo(&["test", "--all-targets", "--no-run"]),
        &home.join("build.log"),
    )
    .map_err(hint)?;
    run_with_one_retry(&cargo(&["test"]), &home.join("test.log")).map_err(hint)?;
    Ok(Done::Passed)
}

/// Put each of `moved` back at the version the committed lock file held; returns those that
/// could not be (a lowered requirement of ours may need the newer one). Passes until one holds
/// nothing more: holding one back may free another (`time` held lets `deranged` be). No index
/// update: the update before this one just read it.
fn hold_at_lock(manifest: &str, moved: Vec<Moved>) -> Vec<Moved> {
    let (mut held, mut left) = (Vec::new(), moved);
    loop {
        let before = left.len();
        let mut kept = Vec::new();
        for package in left {
            match put_back(manifest, &package) {
                Ok(()) => held.push(package.to_string()),
                Err(why) => kept.push((package, why)),
            }
        }
        let done = kept.len() == before;
        if done || kept.is_empty() {
            for (package, why) in &kept {
                println!("{package} stays: {why}");
            }
            if !held.is_empty() {
                println!(
                    "held at Cargo.lock's versions (the update had moved them up): {}",
                    held.join(", ")
                );
            }
            return kept.into_iter().map(|(package, _)| package).collect();
        }
        left = kept.into_iter().map(|(package, _)| package).collect();
    }
}

/// `cargo update -p NAME@NEW --precise OLD` in the copy.
fn put_back(manifest: &str, package: &Moved) -> Result<(), String> {
    let spec = format!("{}@{}", package.name, package.to);
    let put_back = Cmd::cargo_with("nightly")
        .args(&["update", "-Z", "no-index-update"])
        .args(&["--manifest-path", manifest])
        .args(&["-p", &spec, "--precise", &package.from])
        .read();
    match put_back {
        // An earlier one took it back with it (`time` takes `time-core`).
        Err(why) if why.contains("did not match any packages") => Ok(()),
        other => other.map(drop),
    }
}

/// Run `cmd` with its output kept in `log`; a failure is named by its `error` lines, and one that
/// the output shows to be a failed download is tried once more.
fn run_with_one_retry(cmd: &Cmd, log: &Path) -> Result<Logged, String> {
    let failed = |logged: &Logged| {
        format!(
            "`{cmd}` exited with {} (its output: {})",
            logged.status,
            workspace::shown(log)
        )
    };
    let logged = cmd.run_logged(log, LIMIT)?;
    if logged.status.success() {
        return Ok(logged);
    }
    match cargo_output::cause(&logged.output) {
        Cause::Other(errors) => Err(format!("{}:\n    {errors}", failed(&logged))),
        Cause::Network(errors) => {
            println!(
                "a download failed ({errors}); trying once more in {} s",
                NETWORK_PAUSE.as_secs()
            );
            thread::sleep(NETWORK_PAUSE);
            let again = cmd.run_logged(&retry_log(log), LIMIT)?;
            if again.status.success() {
                return Ok(again);
            }
            let errors = match cargo_output::cause(&again.output) {
                Cause::Network(errors) => format!("a download failed twice: {errors}"),
                Cause::Other(errors) => errors,
            };
            Err(format!("{}:\n    {errors}", failed(&again)))
        }
    }
}

/// `build.log` -> `build-again.log`.
fn retry_log(log: &Path) -> PathBuf {
    let stem = log.file_stem().unwrap_or_default().to_string_lossy();
    log.with_file_name(format!("{stem}-again.log"))
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
