//! The core crate's unit tests (the cache logic: one load, stickiness, refresh, deadlines) under
//! miri, which catches undefined behaviour and data races in the code they drive. The tests are
//! meant to shrink their thread and iteration counts under `cfg(miri)`, not to be skipped.

use super::{Done, StepResult};
use crate::cmd::Cmd;
use crate::tools;

/// Leaks are not errors here: the tests leak on purpose (a `Box::leak`ed `'static` cache) and the
/// deadline test leaves its loader thread behind, as the cache does by design when a load hangs.
/// Undefined behaviour and data races still fail the step. Isolation stays on: the unit tests
/// use fake sources and an injected sleep, never the files or trust store of the machine.
const MIRIFLAGS: &str = "-Zmiri-ignore-leaks";

pub(super) fn run() -> StepResult {
    if let Err(why) = tools::has_miri() {
        return Ok(Done::Skipped(why));
    }
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
