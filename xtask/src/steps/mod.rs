//! The `ci` steps, in the order they run, and the feature matrix they share.

mod cargo_output;
mod cross;
mod deny;
mod examples;
pub(crate) mod fuzz;
mod host;
mod loom;
mod minimal_versions;
mod miri;
mod msrv;
mod package;
mod windows;
mod wine_limits;

/// How a step that did not fail ended.
pub(crate) enum Done {
    Passed,
    /// Everything that ran passed, but part of the step could not run, for this reason.
    Partly(String),
    /// Nothing ran, for this reason.
    Skipped(String),
}

/// A step fails with a message naming the command that failed.
pub(crate) type StepResult = Result<Done, String>;

pub(crate) struct Step {
    pub(crate) name: &'static str,
    pub(crate) about: &'static str,
    pub(crate) run: fn() -> StepResult,
}

#[rustfmt::skip]
pub(crate) const ALL: &[Step] = &[
    Step { name: "fmt", about: "cargo fmt --all --check", run: host::fmt },
    Step { name: "clippy", about: "each package, each feature set, all targets, -D warnings", run: host::clippy },
    Step { name: "test", about: "each package, each feature set, --locked", run: host::test },
    Step { name: "doc", about: "rustdoc with -D warnings, and doctests", run: host::doc },
    Step { name: "package", about: "cargo package of every published crate, and a publish dry run", run: package::run },
    Step { name: "cross", about: "check and clippy for macOS, Windows and Android", run: cross::run },
    Step { name: "windows", about: "the Windows target's tests under Wine (installed if missing), its limits named", run: windows::run },
    Step { name: "msrv", about: "cargo check of each published crate with its rust-version", run: msrv::run },
    Step { name: "minimal-versions", about: "tests with every direct dependency at its lowest allowed version", run: minimal_versions::run },
    Step { name: "deny", about: "cargo deny: bans, licenses, sources, advisories", run: deny::run },
    Step { name: "miri", about: "the cache logic's unit tests under miri (nightly, installed if missing)", run: miri::run },
    Step { name: "loom", about: "the cache's state machine model-checked with loom", run: loom::run },
    Step { name: "fuzz", about: "30 s of libFuzzer on operator PEM", run: fuzz::run },
    Step { name: "examples", about: "build every example with its required features, run each one", run: examples::run },
];

/// The feature sets that matter, one line per combination; a member not listed here (xtask, a
/// tool such as `tls-probe`) is built with its default features only. Each package is built on
/// its own (`-p`), so a feature another package turns on cannot hide a breakage.
/// `native-roots-cache` has one, `metrics`, off by default.
/// `--all-features` includes aws-lc-rs, whose C build needs only a C compiler (and, on Windows,
/// NASM or its prebuilt objects) on the hosts we build on.
#[rustfmt::skip]
const FEATURE_SETS: &[(&str, &[&str])] = &[
    ("native-roots-cache", &[]),
    ("native-roots-cache", &["--features", "metrics"]),
    ("tls-client-builder", &["--no-default-features"]),
    ("tls-client-builder", &[]),
    ("tls-client-builder", &["--no-default-features", "--features", "aws-lc-rs"]),
    ("tls-client-builder", &["--all-features"]),
];

/// The feature sets of `package` in [`FEATURE_SETS`], or its default features alone.
fn feature_sets(package: &str) -> Vec<&'static [&'static str]> {
    let listed: Vec<_> = FEATURE_SETS
        .iter()
        .filter(|(name, _)| *name == package)
        .map(|(_, features)| *features)
        .collect();
    if listed.is_empty() { vec![&[]] } else { listed }
}
