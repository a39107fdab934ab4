//! A bounded libFuzzer run of `fuzz/fuzz_targets/upstream_pem.rs` (operator PEM into an
//! `UpstreamTls`): 30 s in `ci`, longer with `cargo xtask fuzz`. Needs nightly (sanitizers) and
//! cargo-fuzz; both are installed when missing (cargo-fuzz into `target/tools`).

use super::{Done, StepResult};
use crate::{tools, workspace};

const TARGET: &str = "upstream_pem";
/// The `ci` step's run: enough to replay the seeds and explore a little, not a campaign.
const CI_SECONDS: u32 = 30;

pub(super) fn run() -> StepResult {
    fuzz(CI_SECONDS)
}

/// Run the target for `seconds`; a crash fails with the command that replays it.
pub(crate) fn fuzz(seconds: u32) -> StepResult {
    if let Err(why) = tools::ensure_nightly() {
        return Ok(Done::Skipped(why));
    }
    let cargo_fuzz = match tools::cargo_fuzz() {
        Ok(cargo_fuzz) => cargo_fuzz,
        Err(why) => return Ok(Done::Skipped(why)),
    };
    // libFuzzer writes what it learns into the first corpus directory, which must exist; the
    // checked-in seeds are only read.
    let corpus = format!("fuzz/corpus/{TARGET}");
    std::fs::create_dir_all(workspace::root().join(&corpus))
        .map_err(|err| format!("could not create {corpus}: {err}"))?;
    // Run the installed binary directly, on nightly (its sanitizer flags need it).
    cargo_fuzz
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .args(&[
            "fuzz",
            "run",
            "--fuzz-dir",
            "fuzz",
            TARGET,
            &corpus,
            &format!("fuzz/seeds/{TARGET}"),
            "--",
            &format!("-dict=fuzz/{TARGET}.dict"),
            "-max_len=4096",
            &format!("-max_total_time={seconds}"),
        ])
        .run()
        .map_err(|err| {
            format!(
                "{err}; the crashing input is in fuzz/artifacts/{TARGET}/: replay it with \
                 `cargo +nightly fuzz run --fuzz-dir fuzz {TARGET} <file>` (cargo-fuzz is in \
                 target/tools/bin) and add it to \
                 crates/tls-client-builder/tests/pem_regressions.rs"
            )
        })?;
    Ok(Done::Passed)
}
