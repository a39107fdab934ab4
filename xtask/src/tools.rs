//! Getting what a step needs: rustup components, targets and toolchains (nightly with miri too),
//! cargo-deny, cargo-fuzz.
//!
//! Each function returns `Err(reason)` when the tool cannot be had; the step reports that reason
//! as "skipped", never as "passed".

use crate::cmd::Cmd;
use crate::workspace;

/// The cargo-deny release the policy in `deny.toml` is written for.
const CARGO_DENY_VERSION: &str = "0.20.2";
/// The cargo-fuzz release `cargo xtask fuzz` is written for.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

fn rustup(args: &[&str]) -> Cmd {
    Cmd::new("rustup", "rustup").args(args)
}

/// Make sure `cargo SUBCOMMAND` works, adding the rustup component that provides it if needed.
pub(crate) fn ensure_component(subcommand: &str, component: &str) -> Result<(), String> {
    if Cmd::cargo().args(&[subcommand, "--version"]).read().is_ok() {
        return Ok(());
    }
    rustup(&["component", "add", component])
        .run()
        .map_err(|err| {
            format!("`cargo {subcommand}` is missing and rustup could not add it: {err}")
        })
}

/// Add the rustup targets that are missing; return the ones that could not be added, with why.
pub(crate) fn ensure_targets(targets: &[&'static str]) -> Vec<(&'static str, String)> {
    let installed = match rustup(&["target", "list", "--installed"]).read() {
        Ok(list) => list,
        Err(err) => {
            return targets
                .iter()
                .map(|target| (*target, format!("rustup is not usable: {err}")))
                .collect();
        }
    };
    let mut missing = Vec::new();
    for target in targets {
        if installed.lines().any(|line| line.trim() == *target) {
            continue;
        }
        if let Err(err) = rustup(&["target", "add", target]).run() {
            missing.push((*target, err));
        }
    }
    missing
}

/// Make sure `toolchain` is installed (a minimal profile is enough to `cargo check`).
pub(crate) fn ensure_toolchain(toolchain: &str) -> Result<(), String> {
    let list = rustup(&["toolchain", "list"])
        .read()
        .map_err(|err| format!("rustup is not usable: {err}"))?;
    // rustup names it `1.83-<host>`; `1.83.0-<host>` is a different toolchain to `cargo +1.83`.
    let prefix = format!("{toolchain}-");
    if list.lines().any(|line| line.starts_with(&prefix)) {
        return Ok(());
    }
    // `--no-self-update`: installing a toolchain for a check is no reason to upgrade rustup itself.
    rustup(&[
        "toolchain",
        "install",
        toolchain,
        "--profile",
        "minimal",
        "--no-self-update",
    ])
    .run()
    .map_err(|err| {
        format!("toolchain {toolchain} is not installed and rustup could not install it: {err}")
    })
}

/// Make sure the nightly toolchain is installed (miri, cargo-fuzz's sanitizer flags and
/// `-Z direct-minimal-versions` need it).
pub(crate) fn ensure_nightly() -> Result<(), String> {
    ensure_toolchain("nightly")
}

/// Make sure `cargo +nightly miri` can run: nightly with its `miri` and `rust-src` components,
/// added when missing. A nightly that has no miri (some days' nightlies ship none) is a skip
/// with rustup's reason.
pub(crate) fn ensure_miri() -> Result<(), String> {
    ensure_nightly()?;
    let installed = rustup(&["component", "list", "--installed", "--toolchain", "nightly"])
        .read()
        .map_err(|err| format!("rustup cannot list nightly's components: {err}"))?;
    // rustup lists `miri-<host>` and a bare `rust-src`.
    let missing: Vec<&str> = ["miri", "rust-src"]
        .into_iter()
        .filter(|component| {
            !installed
                .lines()
                .any(|line| line == *component || line.starts_with(&format!("{component}-")))
        })
        .collect();
    if !missing.is_empty() {
        let add = rustup(&["component", "add"])
            .args(&missing)
            .args(&["--toolchain", "nightly"]);
        // Read, not run: rustup's own reason (such as "unavailable for download") goes into the
        // skip message.
        println!("$ {add}");
        add.read().map_err(|err| {
            format!(
                "nightly has no {} and rustup could not add it: {err}",
                missing.join(" or ")
            )
        })?;
    }
    Ok(())
}

/// cargo-deny from `target/tools`, installed there when missing.
pub(crate) fn cargo_deny() -> Result<Cmd, String> {
    cargo_tool("cargo-deny", CARGO_DENY_VERSION)
}

/// cargo-fuzz from `target/tools`, installed there when missing.
pub(crate) fn cargo_fuzz() -> Result<Cmd, String> {
    cargo_tool("cargo-fuzz", CARGO_FUZZ_VERSION)
}

/// A cargo subcommand at an exact version from `target/tools`, installed there with
/// `cargo install --locked` when missing, so that the user's global tools are left alone.
fn cargo_tool(name: &str, version: &str) -> Result<Cmd, String> {
    let root = workspace::target_dir().join("tools");
    let binary = root
        .join("bin")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let wanted = format!("{name} {version}");
    let shown_as = workspace::shown(&binary);
    let tool = || Cmd::new(&binary, &shown_as);
    if tool()
        .arg("--version")
        .read()
        .is_ok_and(|found| found.trim() == wanted)
    {
        return Ok(tool());
    }
    let root = root.to_string_lossy();
    Cmd::cargo()
        .args(&[
            "install",
            "--locked",
            name,
            "--version",
            version,
            "--root",
            &root,
        ])
        .run()
        .map_err(|err| format!("{name} is not installed and could not be installed: {err}"))?;
    Ok(tool())
}
