//! Every example builds, and the main one runs to completion exactly as the README runs it.

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::workspace;

/// Run the first of these that exists: `tls-probe` is the main job; `trust-store` stands in for
/// it until it exists.
const MAIN_EXAMPLES: &[&str] = &["tls-probe", "trust-store"];

/// Release builds, as the README's `cargo run --release --example tls-probe`: the example prints
/// what loads and handshakes cost. The environment (`SSL_CERT_FILE`, `SSL_CERT_DIR`) is passed on
/// untouched, as a user's would be.
pub(super) fn run() -> StepResult {
    let examples = workspace::examples()?;
    if examples.is_empty() {
        return Ok(Done::Skipped("the workspace has no examples".to_owned()));
    }
    Cmd::cargo()
        .args(&[
            "build",
            "--locked",
            "--release",
            "--workspace",
            "--examples",
        ])
        .run()?;
    let dir = workspace::target_dir().join("release").join("examples");
    for example in &examples {
        let binary = dir.join(format!("{}{}", example.name, std::env::consts::EXE_SUFFIX));
        if !binary.is_file() {
            return Err(format!(
                "example `{}` of {} was not built (does it need a feature that is not on by default?)",
                example.name, example.package
            ));
        }
    }
    let main = MAIN_EXAMPLES
        .iter()
        .find_map(|name| examples.iter().find(|example| example.name == *name));
    let Some(main) = main else {
        return Ok(Done::Partly(format!(
            "none of {} exists to run",
            MAIN_EXAMPLES.join(", ")
        )));
    };
    Cmd::cargo()
        .args(&[
            "run",
            "--locked",
            "--release",
            "-p",
            &main.package,
            "--example",
            &main.name,
        ])
        .run()?;
    Ok(Done::Passed)
}
