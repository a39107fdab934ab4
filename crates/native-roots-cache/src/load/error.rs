//! The error every caller of a failed load sees, identical on every call: one constructor per
//! kind, next to the kind. It holds the facts of the failure (counts, paths, the deadline, the
//! cause) and renders its one-line `Display`, its `source()` and its advice from them; how a
//! cached failure heals is read from [`heal::doors`], the one place that decides it. It never
//! logs: the cache logs a failure once, where it handles it.

use std::error::Error;
use std::fmt::{self, Display};
use std::path::{Path, PathBuf};
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
/// [`advice`](Self::advice); the cache logs the error, its cause and its advice once, where it
/// handles the failure.
///
/// It is made once, when the load fails, and the same value (an `Arc` clone) is handed to every
/// later caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeRootsError(pub(super) Arc<Inner>);

#[derive(Debug, PartialEq, Eq)]
pub(super) struct Inner {
    pub(super) kind: NativeRootsErrorKind,
    pub(super) attempts: u32,
    pub(super) origin: TrustOrigin,
    pub(super) facts: Facts,
    pub(super) source: Option<SourceError>,
    /// Met by a reload while a good store stays in use: nothing is cached, so the advice says
    /// what happens to the store in use instead of how a cached error heals.
    pub(super) store_kept: bool,
}

/// What each kind knows of its failure, beyond the kind, the attempts, the origin and the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Facts {
    TransientExhausted {
        transient: usize,
        anchors: usize,
    },
    Strict {
        anchors: usize,
        problems: usize,
    },
    NoAnchors {
        certificates: usize,
        skipped: usize,
        errors: usize,
    },
    Panicked,
    NotStarted,
    Deadline {
        deadline: Duration,
        stuck_in: Option<PathBuf>,
    },
    LoaderStuck {
        stuck_in: Option<PathBuf>,
    },
    IncompleteFile {
        path: PathBuf,
        what: &'static str,
    },
    Reentrant,
}

impl NativeRootsError {
    fn new(
        kind: NativeRootsErrorKind,
        attempts: u32,
        origin: &TrustOrigin,
        facts: Facts,
        source: Option<SourceError>,
    ) -> Self {
        Self(Arc::new(Inner {
            kind,
            attempts,
            origin: origin.clone(),
            facts,
            source,
            store_kept: false,
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
        Self::new(
            NativeRootsErrorKind::TransientExhausted,
            attempts,
            origin,
            Facts::TransientExhausted { transient, anchors },
            Some(last.clone()),
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
        let problems = errors.len() + skipped.len();
        Self::new(
            NativeRootsErrorKind::Strict,
            attempts,
            origin,
            Facts::Strict { anchors, problems },
            first,
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
        Self::new(
            NativeRootsErrorKind::NoAnchors,
            attempts,
            origin,
            Facts::NoAnchors {
                certificates,
                skipped,
                errors: errors.len(),
            },
            errors.first().cloned(),
        )
    }

    /// The source panicked during attempt `attempts`.
    pub(crate) fn panicked(origin: &TrustOrigin, attempts: u32, panic: &str) -> Self {
        Self::new(
            NativeRootsErrorKind::Panicked,
            attempts,
            origin,
            Facts::Panicked,
            Some(SourceError::permanent("the trust source panicked", panic)),
        )
    }

    /// The loader thread could not be started.
    pub(crate) fn not_started(origin: &TrustOrigin, err: &dyn Display) -> Self {
        Self::new(
            NativeRootsErrorKind::Panicked,
            0,
            origin,
            Facts::NotStarted,
            Some(SourceError::permanent(
                "starting the loader thread",
                err.to_string(),
            )),
        )
    }

    /// The load ran past `deadline`, last seen reading `path`.
    pub(crate) fn deadline(
        origin: &TrustOrigin,
        attempts: u32,
        deadline: Duration,
        path: Option<&Path>,
    ) -> Self {
        Self::new(
            NativeRootsErrorKind::Deadline,
            attempts,
            origin,
            Facts::Deadline {
                deadline,
                stuck_in: path.map(Path::to_owned),
            },
            None,
        )
    }

    /// A previous load is still stuck past its deadline, last seen reading `path`.
    pub(crate) fn loader_stuck(origin: &TrustOrigin, path: Option<&Path>) -> Self {
        Self::new(
            NativeRootsErrorKind::LoaderStuck,
            0,
            origin,
            Facts::LoaderStuck {
                stuck_in: path.map(Path::to_owned),
            },
            None,
        )
    }

    /// A reload met `path` incomplete (`what`: cut short, or emptied) while a good store is in
    /// use, which it keeps.
    pub(crate) fn incomplete_file(
        origin: &TrustOrigin,
        attempts: u32,
        path: &Path,
        what: &'static str,
    ) -> Self {
        Self::new(
            NativeRootsErrorKind::IncompleteFile,
            attempts,
            origin,
            Facts::IncompleteFile {
                path: path.to_owned(),
                what,
            },
            None,
        )
    }

    /// The same error, met by a reload while a good store stays in use: nothing is cached then,
    /// so its advice says what happens to the store in use instead of how a cached error heals.
    pub(crate) fn kept_store(self) -> Self {
        if self.0.store_kept {
            return self;
        }
        let inner = &self.0;
        Self(Arc::new(Inner {
            kind: inner.kind,
            attempts: inner.attempts,
            origin: inner.origin.clone(),
            facts: inner.facts.clone(),
            source: inner.source.clone(),
            store_kept: true,
        }))
    }

    /// The source asked its own cache for roots.
    pub(crate) fn reentrant(origin: &TrustOrigin) -> Self {
        Self::new(
            NativeRootsErrorKind::Reentrant,
            0,
            origin,
            Facts::Reentrant,
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
}

impl Display for NativeRootsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Inner {
            attempts,
            origin,
            facts,
            ..
        } = &*self.0;
        let attempts = *attempts;
        match facts {
            Facts::TransientExhausted { transient, anchors } => {
                write!(
                    f,
                    "could not read the trust store from {origin}: {} met transient errors \
                     ({transient} in the last",
                    count(attempts as usize, "attempt"),
                )?;
                if *anchors > 0 {
                    write!(f, ", which still yielded {}", count(*anchors, "anchor"))?;
                }
                f.write_str(")")
            }
            Facts::Strict { anchors, problems } => write!(
                f,
                "strict mode: the trust store from {origin} loaded {} with {}",
                count(*anchors, "anchor"),
                count(*problems, "problem"),
            ),
            Facts::NoAnchors {
                certificates,
                skipped,
                errors,
            } => write!(
                f,
                "no usable trust anchors from {origin}: {} found, {skipped} unparsable, {}",
                count(*certificates, "certificate"),
                count(*errors, "error"),
            ),
            Facts::Panicked => write!(
                f,
                "reading the trust store from {origin} panicked in attempt {attempts}"
            ),
            Facts::NotStarted => write!(
                f,
                "could not start a thread to load the trust store from {origin}"
            ),
            Facts::Deadline { deadline, stuck_in } => {
                write!(
                    f,
                    "loading the trust store from {origin} did not finish within {deadline:?} ("
                )?;
                match stuck_in {
                    Some(path) => write!(f, "stuck reading {}", path.display())?,
                    None => f.write_str("stuck inside the source, before it opened any file")?,
                }
                write!(f, ", in attempt {attempts})")
            }
            Facts::LoaderStuck { stuck_in } => {
                write!(
                    f,
                    "the trust store from {origin} was not read again: a previous load is still "
                )?;
                match stuck_in {
                    Some(path) => write!(f, "stuck reading {}", path.display())?,
                    None => f.write_str("stuck inside the source")?,
                }
                f.write_str(", past its deadline")
            }
            Facts::IncompleteFile { path, what } => write!(
                f,
                "the trust store from {origin} was not replaced: {} {what}",
                path.display()
            ),
            Facts::Reentrant => write!(
                f,
                "the trust store from {origin} was requested from inside its own load"
            ),
        }
    }
}

impl Error for NativeRootsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source.as_ref().map(|source| source as _)
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
