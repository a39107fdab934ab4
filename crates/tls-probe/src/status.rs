//! The exit status: what the operator's script sees.

use std::process::ExitCode;

/// How a run ended, in increasing order of precedence: when several apply, the greatest wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Status {
    /// Exit 0: everything asked for worked.
    Ok,
    /// Exit 3: the system trust store failed to load.
    TrustStore,
    /// Exit 1: a verification or handshake failed.
    Failed,
    /// Exit 2: an argument is unusable (clap exits 2 by itself for usage errors; this covers
    /// files that cannot be read or hold no usable PEM).
    BadArguments,
}

impl Status {
    /// The status of a run that did both: the one that takes precedence.
    pub(crate) fn and(self, other: Self) -> Self {
        self.max(other)
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        ExitCode::from(match status {
            Status::Ok => 0,
            Status::Failed => 1,
            Status::BadArguments => 2,
            Status::TrustStore => 3,
        })
    }
}
