//! The error every caller of a failed load sees, identical on every call, and the one place where
//! each of its messages is written: one constructor per kind, next to the kind.

use std::fmt::Display;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::source::TrustOrigin;

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
/// It carries an operator-readable message: what failed, where, after how many attempts, and what
/// to do. It is rendered once, when the load fails, and the same value is handed to every later
/// caller.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NativeRootsError {
    kind: NativeRootsErrorKind,
    attempts: u32,
    message: Arc<str>,
}

/// The sentence every cached error ends with.
const CACHED: &str = "This error is cached for the life of the process: fix the cause, then \
                      restart it or call RootsCache::global().refresh()";

impl NativeRootsError {
    fn new(kind: NativeRootsErrorKind, attempts: u32, message: String) -> Self {
        Self {
            kind,
            attempts,
            message: message.into(),
        }
    }

    /// Every attempt met a transient error; `last` is the last one met, `anchors` what the last
    /// attempt still yielded.
    pub(crate) fn transient_exhausted(
        origin: &dyn Display,
        attempts: u32,
        transient: usize,
        last: &dyn Display,
        anchors: usize,
    ) -> Self {
        let yielded = if anchors > 0 {
            format!(", which still yielded {anchors} anchors")
        } else {
            String::new()
        };
        Self::new(
            NativeRootsErrorKind::TransientExhausted,
            attempts,
            format!(
                "could not read the trust store from {origin}: {attempts} attempt{} met \
                 transient errors ({transient} in the last{yielded}), the last being: {last}. \
                 The store may be missing part of its anchors, so it is not used. {CACHED}",
                plural(attempts),
            ),
        )
    }

    /// Strict mode and at least one problem.
    pub(crate) fn strict(
        origin: &dyn Display,
        attempts: u32,
        anchors: usize,
        problems: &[String],
    ) -> Self {
        Self::new(
            NativeRootsErrorKind::Strict,
            attempts,
            format!(
                "strict mode: the trust store from {origin} loaded {anchors} anchors but reported \
                 {} problem{}: {}. Fix or remove the offending files, or turn strict mode off",
                problems.len(),
                plural(problems.len() as u32),
                problems.join("; "),
            ),
        )
    }

    /// A load that ended without a transient error and without a single anchor.
    pub(crate) fn no_anchors(
        origin: &TrustOrigin,
        attempts: u32,
        certificates: usize,
        skipped: usize,
        errors: &[String],
    ) -> Self {
        let (what, advice) = match origin {
            TrustOrigin::Environment { .. } | TrustOrigin::PlatformStore => (
                "the system trust store",
                "Set SSL_CERT_FILE to a PEM bundle or SSL_CERT_DIR to a directory of PEM \
                 certificates, or install the system CA bundle (the ca-certificates package on \
                 Linux)",
            ),
            TrustOrigin::PemFiles { .. } => (
                "the configured PEM files",
                "Point the configuration at a PEM bundle or a directory of PEM certificates",
            ),
            _ => ("the trust source", "Check the source's configuration"),
        };
        Self::new(
            NativeRootsErrorKind::NoAnchors,
            attempts,
            format!(
                "{what} yielded no usable trust anchors (tried {origin}: {certificates} \
                 certificates found, {skipped} unparsable{}{}). {advice}",
                if errors.is_empty() { "" } else { "; errors: " },
                errors.join("; "),
            ),
        )
    }

    /// The source panicked during attempt `attempts`.
    pub(crate) fn panicked(attempts: u32, panic: &str) -> Self {
        Self::new(
            NativeRootsErrorKind::Panicked,
            attempts,
            format!(
                "the trust-store source panicked during attempt {attempts} ({panic}). {CACHED}"
            ),
        )
    }

    /// The loader thread could not be started.
    pub(crate) fn not_started(err: &dyn Display) -> Self {
        Self::new(
            NativeRootsErrorKind::Panicked,
            0,
            format!(
                "could not start the trust-store loader thread ({err}); the system is out of \
                 threads or memory. {CACHED}"
            ),
        )
    }

    /// The load ran past `deadline`, last seen reading `path`.
    pub(crate) fn deadline(
        origin: &dyn Display,
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
                 ({stuck}, in attempt {attempts} or the backoff after it). Something blocks the \
                 read: a keychain prompt, a hung network file system, a file that never ends. \
                 The stuck loader is left to finish on its own; until it does, this cache starts \
                 no other. {CACHED}"
            ),
        )
    }

    /// A previous load is still stuck past its deadline, last seen reading `path`.
    pub(crate) fn loader_stuck(origin: &dyn Display, path: Option<&Path>) -> Self {
        let stuck = match path {
            Some(path) => format!("stuck reading {}", path.display()),
            None => "stuck inside the source".to_owned(),
        };
        Self::new(
            NativeRootsErrorKind::LoaderStuck,
            0,
            format!(
                "the trust store from {origin} was not read again: a previous load is still \
                 {stuck}, past its deadline, and only one loader may be stuck at a time. Unblock \
                 or remove that path (a hung mount, a file that never ends), then refresh again"
            ),
        )
    }

    /// A reload met `path` incomplete (`what`: cut short, or emptied) while a good store is in
    /// use, which it keeps.
    pub(crate) fn incomplete_file(
        origin: &dyn Display,
        attempts: u32,
        path: &Path,
        what: &str,
    ) -> Self {
        Self::new(
            NativeRootsErrorKind::IncompleteFile,
            attempts,
            format!(
                "the trust store from {origin} was not replaced: {} {what}, so its anchors would \
                 be lost; the store in use is kept until the file is whole (to remove a file's \
                 anchors on purpose, delete the file)",
                path.display()
            ),
        )
    }

    /// The source asked its own cache for roots.
    pub(crate) fn reentrant(origin: &dyn Display) -> Self {
        Self::new(
            NativeRootsErrorKind::Reentrant,
            0,
            format!(
                "the trust store was requested from inside its own load (source: {origin}); the \
                 source must not call native_roots() or RootsCache::global().refresh() on the cache it \
                 feeds"
            ),
        )
    }

    /// What went wrong.
    pub fn kind(&self) -> NativeRootsErrorKind {
        self.kind
    }

    /// How many times the trust-store source was asked before giving up.
    ///
    /// For [`NativeRootsErrorKind::Deadline`] this counts the attempt that was still running.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The operator-readable message, as [`Display`](std::fmt::Display) prints it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
