//! What an operator can do about a [`NativeRootsError`], and how it heals, in words rendered
//! from its facts and from [`heal::doors`] (the decision the cache opens its doors by); and the
//! error explained in one log line.

use std::fmt::{self, Display};

use crate::load::error::{Facts, NativeRootsError};
use crate::load::heal::{self, Doors};
use crate::source::{SourceError, TrustOrigin};

impl NativeRootsError {
    /// What an operator can do about it, and how the error heals once it is cached (or, met by a
    /// reload that kept the store in use, what happens to that store), in lowercase words
    /// without a final period: the end of the line logged when the load fails, and a tool's
    /// hint. It names [`RootsCache::refresh`](crate::RootsCache::refresh), never a call that is
    /// wrong for the cache at hand.
    pub fn advice(&self) -> String {
        let inner = &*self.0;
        let what = match inner.source.as_ref().and_then(SourceError::advice) {
            // What the cause's own advice says comes first: it is the most specific.
            Some(first) => format!("{first}; {}", self.what_to_do()),
            None => self.what_to_do(),
        };
        let Some(doors) = self.doors() else {
            return what;
        };
        if inner.store_kept {
            let again = if doors.files {
                format!("when the files change (a watcher's next poll, {CHECK}) or on {REFRESH}")
            } else {
                format!("at the next reload (a watcher's timer, {REFRESH})")
            };
            return format!("{what}; the store in use stays, and is read again {again}");
        }
        format!("{what}; {}", heals(doors))
    }

    /// How this failure heals once cached ([`heal::doors`]): what the cache opens, and what the
    /// advice says; `None` for a kind that is never cached.
    pub(crate) fn doors(&self) -> Option<Doors> {
        heal::doors(self.0.kind, &self.0.origin)
    }

    /// What to do, from the kind's facts and the origin.
    fn what_to_do(&self) -> String {
        let inner = &*self.0;
        match &inner.facts {
            Facts::TransientExhausted { .. } => {
                "find what keeps the read failing (the cause names the last error; a store \
                 missing part of its anchors is not used)"
                    .to_owned()
            }
            Facts::Strict { .. } => {
                "fix or remove the offending files (the load report lists every problem), or \
                 turn strict mode off"
                    .to_owned()
            }
            Facts::NoAnchors { .. } => match inner.origin {
                TrustOrigin::Environment { .. } => {
                    "point SSL_CERT_FILE at a PEM bundle or SSL_CERT_DIR at a directory of PEM \
                     certificates, or unset both to use the platform store"
                }
                TrustOrigin::PlatformStore => {
                    "install the system CA bundle (the ca-certificates package on Linux), or set \
                     SSL_CERT_FILE to a PEM bundle or SSL_CERT_DIR to a directory of PEM \
                     certificates"
                }
                TrustOrigin::PemFiles { .. } => {
                    "point the configuration at a PEM bundle or a directory of PEM certificates"
                }
                TrustOrigin::Custom(_) => "check the trust source's configuration",
            }
            .to_owned(),
            Facts::Panicked => "fix the trust source".to_owned(),
            Facts::NotStarted => "the process is out of threads or memory".to_owned(),
            Facts::Deadline { .. } => {
                "unblock the read (a keychain prompt, a hung network mount, a file that never \
                 ends): the stuck loader is left to finish on its own, and until it does this \
                 cache starts no other"
                    .to_owned()
            }
            Facts::LoaderStuck { .. } => format!(
                "only one loader may be stuck at a time: unblock or remove that path (a hung \
                 mount, a file that never ends), then refresh the cache again ({REFRESH})"
            ),
            Facts::IncompleteFile { .. } => {
                "the store in use is kept until the file is whole, so its anchors are not lost; \
                 to remove a file's anchors on purpose, delete the file"
                    .to_owned()
            }
            Facts::Reentrant => {
                "a trust source must not ask the cache it feeds for roots, nor refresh it (this \
                 error is returned to that call only and is not cached)"
                    .to_owned()
            }
        }
    }

    /// The error, its causes and its advice, for a log line.
    pub(crate) fn explained(&self) -> Explained<'_> {
        Explained(self)
    }
}

/// A [`NativeRootsError`] for a log line: its `Display`, its cause after `: `, then `; ` and its
/// advice (a `Display` alone leaves both out). The cause, a `SourceError`, has none of its own.
pub(crate) struct Explained<'a>(&'a NativeRootsError);

impl Display for Explained<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let err = self.0;
        match &err.0.source {
            Some(cause) => write!(f, "{err}: {cause}; {}", err.advice()),
            None => write!(f, "{err}; {}", err.advice()),
        }
    }
}

/// The refresh that reopens a cached error, named for any cache: the process-wide one is a
/// `RootsCache` too.
const REFRESH: &str = "RootsCache::refresh";
const CHECK: &str = "RootsCache::check_for_changes";

/// How a cached error heals through `doors`, in words.
fn heals(doors: Doors) -> String {
    let by_files_or_refresh = if doors.files {
        format!(
            "the error is cached until the files change (the next call notices, at most once a \
             second) or the cache is refreshed ({REFRESH})"
        )
    } else {
        format!(
            "the error is cached until the cache is refreshed ({REFRESH}) or the process restarts"
        )
    };
    if doors.timed {
        format!(
            "its causes pass, so the next call reads the store again 2 s after the failure, then \
             4 s, doubling to at most 5 minutes; {by_files_or_refresh}"
        )
    } else {
        by_files_or_refresh
    }
}
