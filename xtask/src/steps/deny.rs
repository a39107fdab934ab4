//! The dependency policy in `deny.toml`: banned crates, licenses, sources and, when the advisory
//! database can be fetched, security advisories.

use std::time::Duration;

use super::{Done, StepResult};
use crate::tools;

/// A blocked network can leave a clone hanging; this is ample for the real thing.
const FETCH_LIMIT: Duration = Duration::from_secs(300);

pub(super) fn run() -> StepResult {
    let cargo_deny = match tools::cargo_deny() {
        Ok(cargo_deny) => cargo_deny,
        Err(why) => return Ok(Done::Skipped(why)),
    };
    let deny = || cargo_deny.clone().arg("--locked");
    deny()
        .args(&["check", "bans", "licenses", "sources"])
        .run()?;
    // A fetch that fails means "no database", not "vulnerable": tell them apart before checking.
    if let Err(err) = deny().args(&["fetch", "db"]).run_for_at_most(FETCH_LIMIT) {
        return Ok(Done::Partly(format!(
            "advisories not checked: the advisory database could not be fetched ({err})"
        )));
    }
    deny().args(&["check", "advisories"]).run()?;
    Ok(Done::Passed)
}
