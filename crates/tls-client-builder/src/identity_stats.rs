//! What a [`RotatingIdentity`](crate::RotatingIdentity) counts ([`IdentityStats`]), and the
//! warnings it gives as its end nears: a `warn` when the identity in use enters its window (7 days
//! by default), and one more when it expires, each once per identity swapped in (the stages are
//! the core's, kept by the identity's [`ReloadGate`]).

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use native_roots_cache::ReloadGate;

use crate::identity_error::IdentityError;
use crate::meter;
use crate::utc::Utc;

/// What a rotating identity has done since it was built, and its end of validity (see
/// [`RotatingIdentity::stats`](crate::RotatingIdentity::stats)). A refused reload counts once,
/// under one reason; a file still being written is not refused, only read later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentityStats {
    /// New identities swapped in.
    pub rotations: u64,
    /// Reloads refused because a file could not be read ([`IdentityError::Read`]).
    pub rejected_read: u64,
    /// Reloads refused because the PEM, a certificate or the key was unusable, or the key did not
    /// match the certificate.
    pub rejected_invalid: u64,
    /// Reloads refused because the new leaf had expired ([`IdentityError::Expired`]).
    pub rejected_expired: u64,
    /// Reloads refused because the identity callback failed ([`IdentityError::Callback`]).
    pub rejected_callback: u64,
    /// Reads that did not finish: past their timeout, panicked, or no thread
    /// ([`IdentityError::Unfinished`]).
    pub rejected_unfinished: u64,
    /// Looks at the source started by handshakes the server refused
    /// ([`RotatingIdentity::handshake_failed`](crate::RotatingIdentity::handshake_failed)), at
    /// most one a second.
    pub refusal_checks: u64,
    /// The end of validity of the leaf certificate in use.
    pub not_after: SystemTime,
}

impl IdentityStats {
    /// Every refused reload, whatever the reason.
    pub fn rejected(&self) -> u64 {
        self.rejected_read
            + self.rejected_invalid
            + self.rejected_expired
            + self.rejected_callback
            + self.rejected_unfinished
    }
}

/// How long before its end the identity in use is warned of, by default.
pub(crate) const DEFAULT_EXPIRY_WARNING: Duration = Duration::from_secs(7 * 86_400);

/// The counters of one identity, and its warning window.
#[derive(Debug)]
pub(crate) struct IdentityCounters {
    read: AtomicU64,
    invalid: AtomicU64,
    expired: AtomicU64,
    callback: AtomicU64,
    unfinished: AtomicU64,
    /// Looks started by refused handshakes.
    refusal_checks: AtomicU64,
    /// How long before its end the identity in use is warned of, in seconds.
    window: AtomicU64,
}

impl IdentityCounters {
    pub(crate) fn new() -> Self {
        Self {
            read: AtomicU64::new(0),
            invalid: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            callback: AtomicU64::new(0),
            unfinished: AtomicU64::new(0),
            refusal_checks: AtomicU64::new(0),
            window: AtomicU64::new(DEFAULT_EXPIRY_WARNING.as_secs()),
        }
    }

    /// A refused handshake started a look.
    pub(crate) fn refusal_check_started(&self) {
        self.refusal_checks.fetch_add(1, Ordering::Relaxed);
    }

    /// A reload of identity `name` was refused with `err`.
    pub(crate) fn rejected(&self, name: &str, err: &IdentityError) {
        let (counter, reason) = match err {
            IdentityError::Read { .. } => (&self.read, "read"),
            IdentityError::Pem { .. }
            | IdentityError::Certificate { .. }
            | IdentityError::Key { .. }
            | IdentityError::KeyMismatch { .. } => (&self.invalid, "invalid"),
            IdentityError::Expired { .. } => (&self.expired, "expired"),
            IdentityError::Callback { .. } => (&self.callback, "callback"),
            IdentityError::Unfinished { .. } => (&self.unfinished, "unfinished"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        meter::identity_rejected(name, reason);
    }

    pub(crate) fn snapshot(&self, rotations: u64, not_after: SystemTime) -> IdentityStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        IdentityStats {
            rotations,
            rejected_read: read(&self.read),
            rejected_invalid: read(&self.invalid),
            rejected_expired: read(&self.expired),
            rejected_callback: read(&self.callback),
            rejected_unfinished: read(&self.unfinished),
            refusal_checks: read(&self.refusal_checks),
            not_after,
        }
    }

    pub(crate) fn set_window(&self, ahead: Duration) {
        self.window.store(ahead.as_secs(), Ordering::Relaxed);
    }

    /// Look at the identity in use (`name` from `source`, ending at `not_after`): set the
    /// facade's gauge and, with the checks' `gate` (which keeps the stages), give the warning due.
    pub(crate) fn look(
        &self,
        name: &str,
        source: &dyn Display,
        not_after: SystemTime,
        gate: Option<&mut ReloadGate>,
    ) {
        meter::identity_expiry(name, not_after);
        let window = Duration::from_secs(self.window.load(Ordering::Relaxed));
        match gate.and_then(|gate| gate.expiry_warning(not_after, window)) {
            None => {}
            Some(Duration::ZERO) => log::warn!(
                "client identity `{name}` from {source} expired at {}; servers that check client \
                 certificates refuse it: write a renewed certificate and key over the files (a \
                 watched identity picks them up)",
                Utc(not_after)
            ),
            Some(_) => log::warn!(
                "client identity `{name}` from {source} expires within {}, at {}: renew it before \
                 then (an expired replacement is refused, and this one stays in use)",
                Span(window),
                Utc(not_after)
            ),
        }
    }
}

/// A warning window in words: whole days as days.
struct Span(Duration);

impl Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_secs() {
            secs if secs % 86_400 == 0 && secs >= 86_400 * 2 => write!(f, "{} days", secs / 86_400),
            86_400 => f.write_str("1 day"),
            secs => write!(f, "{secs} s"),
        }
    }
}
