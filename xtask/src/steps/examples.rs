//! Every example of every member builds, with the features it requires, and runs to completion;
//! then the README's main command: the `tls-probe` binary with no arguments (the trust-store
//! report, then a loopback handshake).

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::{packages, workspace};

/// The arguments an example runs with here; the others run with none. An example that measures
/// runs at a small size, enough to show it works: `cargo xtask bench` is where it measures
/// (`config-memory` takes 100 s at its default 10,000 configs, 2 s at 200).
#[rustfmt::skip]
const ARGS: &[(&str, &[&str])] = &[
    ("config-memory", &["--configs", "200"]),
];

/// Release builds, as the README runs them (`cargo run --release --example ...`): the examples
/// print what loads and handshakes cost. One build of the whole workspace, then each binary is
/// run directly, so that no example is rebuilt with another package's feature set. The
/// environment (`SSL_CERT_FILE`, `SSL_CERT_DIR`) is passed on untouched, as a user's would be.
pub(super) fn run() -> StepResult {
    let mut examples = Vec::new();
    let mut features = Vec::new();
    for package in packages::members()? {
        for example in package.targets("example") {
            examples.push((package.name.clone(), example.name.clone()));
            features.extend(
                example
                    .required_features
                    .iter()
                    .map(|feature| format!("{}/{feature}", package.name)),
            );
        }
    }
    if examples.is_empty() {
        return Ok(Done::Skipped("the workspace has no examples".to_owned()));
    }
    if let Some((stale, _)) = ARGS
        .iter()
        .find(|(name, _)| !examples.iter().any(|(_, example)| example == name))
    {
        return Err(format!(
            "no member has the example `{stale}` that ARGS in xtask/src/steps/examples.rs names"
        ));
    }
    let mut build = Cmd::cargo().args(&[
        "build",
        "--locked",
        "--release",
        "--workspace",
        "--examples",
        "--bins",
    ]);
    if !features.is_empty() {
        build = build.args(&["--features", &features.join(",")]);
    }
    build.run()?;
    let dir = workspace::target_dir().join("release").join("examples");
    for (package, name) in &examples {
        let binary = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        if !binary.is_file() {
            return Err(format!(
                "example `{name}` of {package} was not built to {}",
                binary.display()
            ));
        }
        let args = ARGS
            .iter()
            .find(|(example, _)| example == name)
            .map_or(&[][..], |(_, args)| *args);
        Cmd::new(&binary, &workspace::shown(&binary))
            .args(args)
            .run()?;
    }
    // The README's main command, `cargo run --release -p tls-probe`, from the build above.
    let probe = workspace::target_dir()
        .join("release")
        .join(format!("tls-probe{}", std::env::consts::EXE_SUFFIX));
    Cmd::new(&probe, &workspace::shown(&probe)).run()?;
    Ok(Done::Passed)
}
