//! The error every caller of a failed load sees, identical on every call.

use std::sync::Arc;

/// Why the trust store could not be provided.
///
/// New kinds may be added in minor releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NativeRootsErrorKind {
    /// Every attempt met a transient error (macOS `errSecIO`, another OS-API error, or an
    /// interrupted, would-block or timed-out read) and the retries ran out.
    TransientExhausted,
    /// The load finished without a transient error but produced zero usable trust anchors.
    NoAnchors,
    /// The trust-store source panicked.
    Panicked,
    /// The load did not finish within the policy's deadline.
    Deadline,
    /// Strict mode is on and the load reported at least one error or unparsable certificate.
    Strict,
    /// The trust-store source asked the same cache for its roots from inside its own load.
    ///
    /// This error is returned to that inner call only; it is never cached.
    Reentrant,
}

/// The shared, cloneable error of a failed trust-store load.
///
/// It carries an operator-readable message: what failed, where, after how many attempts, and what
/// to do. The underlying `rustls_native_certs::Error` is not `Clone`, so the message is rendered
/// once, when the load fails, and the same value is handed to every later caller.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NativeRootsError {
    kind: NativeRootsErrorKind,
    attempts: u32,
    message: Arc<str>,
}

impl NativeRootsError {
    pub(crate) fn new(kind: NativeRootsErrorKind, attempts: u32, message: String) -> Self {
        Self {
            kind,
            attempts,
            message: message.into(),
        }
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
