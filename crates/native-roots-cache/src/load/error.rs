//! The error every caller of a failed load sees, identical on every call, and the one place where
//! each of its messages is written: one constructor per kind, next to the kind, making its
//! one-line `Display`, its cause and its advice together.

use std::error::Error;
use std::fmt::{self, Display};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::load::report::NotedCertificate;
use crate::source::{SourceError, TrustOrigin};

/// Why the trust store could not be provided.
///
/// New kinds may be added in minor releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NativeRootsErrorKind {
    /// Every attempt met a transient error (macOS `errSecIO`, a torn read of a file being
    /// rewritten, no file descriptor or memory left, an interrupted read) and the retries ran
    /// out.
    TransientExhausted,
    /// The load finished without a transient error but produced zero usable trust anchors.
    NoAnchors,
    /// The trust-store source panicked, or its loader thread could not be started.
    Panicked,
    /// The load did not finish within the policy's deadline.
    Deadline,
    /// A previous load of this cache is still stuck past its deadline, so no second loader was
    /// started.
    LoaderStuck,
    /// Strict mode is on and the load reported at least one error or unparsable certificate.
    Strict,
    /// A reload found a file cut short mid-certificate, or emptied where the store in use read
    /// anchors from it: what a writer that truncated, then stalled, leaves behind. The store in
    /// use stays until the file is whole, however old the cut. Returned by a refresh (or a
    /// watcher's reload) while a good store is published; never cached.
    IncompleteFile,
    /// The trust-store source asked the same cache for its roots from inside its own load.
    ///
    /// This error is returned to that inner call only; it is never cached.
    Reentrant,
}

/// The shared, cloneable error of a failed trust-store load.
///
/// `Display` is one short lowercase line naming what failed and where (the origin, the path when
/// there is one, the attempts where they matter). The cause, when there is one, is the
/// [`source`](Error::source), always a [`SourceError`]: the transient error of the last attempt
/// ([`TransientExhausted`](NativeRootsErrorKind::TransientExhausted)), the first recorded error
/// ([`NoAnchors`](NativeRootsErrorKind::NoAnchors)), the first problem
/// ([`Strict`](NativeRootsErrorKind::Strict)), the panic or the failed thread start
/// ([`Panicked`](NativeRootsErrorKind::Panicked)); the [`LoadReport`](crate::LoadReport) of the
/// load holds every error. What an operator can do, and how a cached error heals, is
/// [`advice`](Self::advice); the crate logs the error, its cause and its advice when the load
/// fails.
///
/// It is made once, when the load fails, and the same value (an `Arc` clone) is handed to every
/// later caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeRootsError(Arc<Inner>);

#[derive(Debug, PartialEq, Eq)]
struct Inner {
    kind: NativeRootsErrorKind,
    attempts: u32,
    line: String,
    source: Option<SourceError>,
    /// What to do, then (after `; `) how the error heals once cached, if it ever is.
    advice: String,
    /// The length of `advice`'s part that says what to do.
    what_to_do: usize,
    /// Whether the error heals when its files change (`None`: it is never cached).
    heals_by_files: Option<bool>,
}

/// How a cached error heals, in words, and whether a change of its files is one way.
struct Heal {
    text: String,
    files: bool,
}

impl NativeRootsError {
    fn new(
        kind: NativeRootsErrorKind,
        attempts: u32,
        line: String,
        source: Option<SourceError>,
        what_to_do: String,
        heals: Option<Heal>,
    ) -> Self {
        let what_len = what_to_do.len();
        let (advice, heals_by_files) = match heals {
            Some(heal) => (format!("{what_to_do}; {}", heal.text), Some(heal.files)),
            None => (what_to_do, None),
        };
        Self(Arc::new(Inner {
            kind,
            attempts,
            line,
            source,
            advice,
            what_to_do: what_len,
            heals_by_files,
        }))
    }

    /// Every attempt met a transient error; `last` is one of the last attempt's, `anchors` what
    /// the last attempt still yielded.
    pub(crate) fn transient_exhausted(
        origin: &TrustOrigin,
        attempts: u32,
        transient: usize,
        last: &SourceError,
        anchors: usize,
    ) -> Self {
        let yielded = if anchors > 0 {
            format!(", which still yielded {}", count(anchors, "anchor"))
        } else {
            String::new()
        };
        Self::new(
            NativeRootsErrorKind::TransientExhausted,
            attempts,
            format!(
                "could not read the trust store from {origin}: {} met transient errors \
                 ({transient} in the last{yielded})",
                count(attempts as usize, "attempt"),
            ),
            Some(last.clone()),
            "find what keeps the read failing (the cause names the last error; a store missing \
             part of its anchors is not used)"
                .to_owned(),
            Some({
                let heal = heal(origin);
                Heal {
                    text: format!(
                        "its causes pass, so the next call reads the store again 2 s after the \
                         failure, then 4 s, doubling to at most 5 minutes; {}",
                        heal.text
                    ),
                    ..heal
                }
            }),
        )
    }

    /// Strict mode and at least one problem: recorded `errors` and `skipped` certificates.
    pub(crate) fn strict(
        origin: &TrustOrigin,
        attempts: u32,
        anchors: usize,
        errors: &[SourceError],
        skipped: &[NotedCertificate],
    ) -> Self {
        let first = errors.first().cloned().or_else(|| {
            skipped
                .first()
                .map(|skipped| SourceError::permanent("skipped", skipped.to_string()))
        });
        Self::new(
            NativeRootsErrorKind::Strict,
            attempts,
            format!(
                "strict mode: the trust store from {origin} loaded {} with {}",
                count(anchors, "anchor"),
                count(errors.len() + skipped.len(), "problem"),
            ),
            first,
            "fix or remove the offending files (the load report lists every problem), or turn \
             strict mode off"
                .to_owned(),
            Some(heal(origin)),
        )
    }

    /// A load that ended without a transient error and without a single anchor.
    pub(crate) fn no_anchors(
        origin: &TrustOrigin,
        attempts: u32,
        certificates: usize,
        skipped: usize,
        errors: &[SourceError],
    ) -> Self {
        let what_to_do = match origin {
            TrustOrigin::Environment { .. } => {
                "point SSL_CERT_FILE at a PEM bundle or SSL_CERT_DIR at a directory of PEM \
                 certificates, or unset both to use the platform store"
            }
            TrustOrigin::PlatformStore => {
                "install the system CA bundle (the ca-certificates package on Linux), or set \
                 SSL_CERT_FILE to a PEM bundle or SSL_CERT_DIR to a directory of PEM certificates"
            }
            TrustOrigin::PemFiles { .. } => {
                "point the configuration at a PEM bundle or a directory of PEM certificates"
            }
            TrustOrigin::Custom(_) => "check the trust source's configuration",
        };
        Self::new(
            NativeRootsErrorKind::NoAnchors,
            attempts,
            format!(
                "no usable trust anchors from {origin}: {} found, {skipped} unparsable, {}",
                count(certificates, "certificate"),
                count(errors.len(), "error"),
            ),
            errors.first().cloned(),
            what_to_do.to_owned(),
            Some(heal(origin)),
        )
    }

    /// The source panicked during attempt `attempts`.
    pub(crate) fn panicked(origin: &TrustOrigin, attempts: u32, panic: &str) -> Self {
        Self::new(
            NativeRootsErrorKind::Panicked,
            attempts,
            format!("reading the trust store from {origin} panicked in attempt {attempts}"),
            Some(SourceError::permanent("the trust source panicked", panic)),
            "fix the trust source".to_owned(),
            Some(heal_by_refresh()),
        )
    }

    /// The loader thread could not be started.
    pub(crate) fn not_started(origin: &TrustOrigin, err: &dyn Display) -> Self {
        Self::new(
            NativeRootsErrorKind::Panicked,
            0,
            format!("could not start a thread to load the trust store from {origin}"),
            Some(SourceError::permanent(
                "starting the loader thread",
                err.to_string(),
            )),
            "the process is out of threads or memory".to_owned(),
            Some(heal_by_refresh()),
        )
    }

    /// The load ran past `deadline`, last seen reading `path`.
    pub(crate) fn deadline(
        origin: &TrustOrigin,
        attempts: u32,
        deadline: Duration,
        path: Option<&Path>,
    ) -> Self {
        let stuck = match path {
            Some(path) => format!("stuck reading {}", path.display()),
            None => "stuck inside the source, before it opened any file".to_owned(),
        };
        Self::new(
            NativeRootsErrorKind::Deadline,
            attempts,
            format!(
                "loading the trust store from {origin} did not finish within {deadline:?} \
                 ({stuck}, in attempt {attempts})"
            ),
            None,
            "unblock the read (a keychain prompt, a hung network mount, a file that never \
             ends): the stuck loader is left to finish on its own, and until it does this cache \
             starts no other"
                .to_owned(),
            Some(heal_by_refresh()),
        )
    }

    /// A previous load is still stuck past its deadline, last seen reading `path`.
    pub(crate) fn loader_stuck(origin: &TrustOrigin, path: Option<&Path>) -> Self {
        let stuck = match path {
            Some(path) => format!("stuck reading {}", path.display()),
            None => "stuck inside the source".to_owned(),
        };
        Self::new(
            NativeRootsErrorKind::LoaderStuck,
            0,
            format!(
                "the trust store from {origin} was not read again: a previous load is still \
                 {stuck}, past its deadline"
            ),
            None,
            format!(
                "only one loader may be stuck at a time: unblock or remove that path (a hung \
                 mount, a file that never ends), then refresh the cache again ({REFRESH})"
            ),
            None,
        )
    }

    /// A reload met `path` incomplete (`what`: cut short, or emptied) while a good store is in
    /// use, which it keeps.
    pub(crate) fn incomplete_file(
        origin: &TrustOrigin,
        attempts: u32,
        path: &Path,
        what: &str,
    ) -> Self {
        Self::new(
            NativeRootsErrorKind::IncompleteFile,
            attempts,
            format!(
                "the trust store from {origin} was not replaced: {} {what}",
                path.display()
            ),
            None,
            "the store in use is kept until the file is whole, so its anchors are not lost; to \
             remove a file's anchors on purpose, delete the file"
                .to_owned(),
            None,
        )
    }

    /// The same error, met by a reload while a good store stays in use: nothing is cached then,
    /// so its advice says what to do, then what happens to the store in use, instead of how a
    /// cached error heals.
    pub(crate) fn kept_store(self) -> Self {
        let inner = &self.0;
        let Some(files) = inner.heals_by_files else {
            return self;
        };
        let again = if files {
            format!("when the files change (a watcher's next poll, {CHECK}) or on {REFRESH}")
        } else {
            format!("at the next reload (a watcher's timer, {REFRESH})")
        };
        Self::new(
            inner.kind,
            inner.attempts,
            inner.line.clone(),
            inner.source.clone(),
            inner.advice[..inner.what_to_do].to_owned(),
            Some(Heal {
                text: format!("the store in use stays, and is read again {again}"),
                files,
            }),
        )
    }

    /// The source asked its own cache for roots.
    pub(crate) fn reentrant(origin: &TrustOrigin) -> Self {
        Self::new(
            NativeRootsErrorKind::Reentrant,
            0,
            format!("the trust store from {origin} was requested from inside its own load"),
            None,
            "a trust source must not ask the cache it feeds for roots, nor refresh it (this \
             error is returned to that call only and is not cached)"
                .to_owned(),
            None,
        )
    }

    /// What went wrong.
    pub fn kind(&self) -> NativeRootsErrorKind {
        self.0.kind
    }

    /// How many times the trust-store source was asked before giving up.
    ///
    /// For [`NativeRootsErrorKind::Deadline`] this counts the attempt that was still running.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// What an operator can do about it, and how the error heals once it is cached, in lowercase
    /// words without a final period: the end of the line logged when the load fails, and a
    /// tool's hint. It names [`RootsCache::refresh`](crate::RootsCache::refresh), never a call
    /// that is wrong for the cache at hand.
    pub fn advice(&self) -> &str {
        &self.0.advice
    }

    /// The error, its causes and its advice, for a log line.
    pub(crate) fn explained(&self) -> Explained<'_> {
        Explained(self)
    }
}

impl Display for NativeRootsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.line)
    }
}

impl Error for NativeRootsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source.as_ref().map(|source| source as _)
    }
}

/// A [`NativeRootsError`] for a log line: its `Display`, its cause after `: `, then `; ` and its
/// advice (a `Display` alone leaves both out). The cause, a `SourceError`, has none of its own.
pub(crate) struct Explained<'a>(&'a NativeRootsError);

impl Display for Explained<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Inner {
            line,
            source,
            advice,
            ..
        } = &*self.0.0;
        match source {
            Some(cause) => write!(f, "{line}: {cause}; {advice}"),
            None => write!(f, "{line}; {advice}"),
        }
    }
}

/// The refresh that reopens a cached error, named for any cache: the process-wide one is a
/// `RootsCache` too.
const REFRESH: &str = "RootsCache::refresh";
const CHECK: &str = "RootsCache::check_for_changes";

/// How a cached error of a load that read `origin` heals: a source made of files is read again
/// once they change (looked at by the next call, at most once a second); any other only by a
/// refresh.
fn heal(origin: &TrustOrigin) -> Heal {
    let files = match origin {
        TrustOrigin::Environment { .. } | TrustOrigin::PemFiles { .. } => true,
        // On Linux and the BSDs the platform store is openssl-probe's files.
        TrustOrigin::PlatformStore => cfg!(all(unix, not(target_os = "macos"))),
        TrustOrigin::Custom(_) => false,
    };
    if files {
        Heal {
            text: format!(
                "the error is cached until the files change (the next call notices, at most \
                 once a second) or the cache is refreshed ({REFRESH})"
            ),
            files,
        }
    } else {
        heal_by_refresh()
    }
}

/// How a cached error heals when no change of files reopens it: a failure that read nothing (a
/// panic, a deadline), or a source without files.
fn heal_by_refresh() -> Heal {
    Heal {
        text: format!(
            "the error is cached until the cache is refreshed ({REFRESH}) or the process restarts"
        ),
        files: false,
    }
}

/// `1 anchor`, `2 anchors`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused reload keeps what to do and drops how a cached error heals, for every shape of
    /// advice: the timed door of a transient failure, the file door, the refresh-only door.
    #[test]
    fn a_kept_store_drops_the_healing_part_of_the_advice() {
        let files = TrustOrigin::PemFiles {
            file: Some("/etc/app/ca.pem".into()),
            dirs: Vec::new(),
        };
        let last = SourceError::transient("reading", "busy");
        let transient = NativeRootsError::transient_exhausted(&files, 3, 3, &last, 1);
        assert!(transient.advice().contains("2 s after the failure"));
        let kept = transient.clone().kept_store();
        let advice = kept.advice();
        assert!(
            advice.starts_with("find what keeps the read failing"),
            "{advice}"
        );
        assert!(advice.ends_with("or on RootsCache::refresh"), "{advice}");
        assert!(
            !advice.contains("2 s after") && !advice.contains("cached"),
            "{advice}"
        );
        assert_eq!(kept.to_string(), transient.to_string());

        let custom = TrustOrigin::Custom("a vault".into());
        let panicked = NativeRootsError::panicked(&custom, 1, "boom");
        let advice = panicked.kept_store().advice().to_owned();
        assert_eq!(
            advice,
            "fix the trust source; the store in use stays, and is read again at the next reload \
             (a watcher's timer, RootsCache::refresh)"
        );
    }
}
