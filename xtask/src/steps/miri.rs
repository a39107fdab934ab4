//! The core crate's unit tests (the cache logic: one load, stickiness, refresh, deadlines) under
//! miri, which catches undefined behaviour and data races in the code they drive. The tests are
//! meant to shrink their thread and iteration counts under `cfg(miri)`, not to be skipped.
//! Nightly, miri and rust-src are installed when missing, as the msrv step installs its toolchain.

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::tools;

/// Leak checks stay on (the tests release every thread and cache they start). Isolation stays on
/// too: the unit tests use fake sources and an injected sleep, never the machine's files or
/// trust store.
const MIRIFLAGS: &str = "";

pub(super) fn run() -> StepResult {
    if let Err(why) = tools::ensure_miri() {
        return Ok(Done::Skipped(why));
    }
    // Builds miri's own standard library once; a no-op when it is already built. Run on its own
    // so that a failure here is told apart from a failing test.
    Cmd::cargo_with("nightly").args(&["miri", "setup"]).run()?;
    Cmd::cargo_with("nightly")
        .env("MIRIFLAGS", MIRIFLAGS)
        .args(&[
            "miri",
            "test",
            "--locked",
            "-p",
            "native-roots-cache",
            "--lib",
        ])
        .run()?;
    Ok(Done::Passed)
}
