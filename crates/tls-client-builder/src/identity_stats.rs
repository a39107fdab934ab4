//! What a [`RotatingIdentity`](crate::RotatingIdentity) counts ([`IdentityStats`]), and the
//! warnings it gives as its end nears: a `warn` when the identity in use enters its window (7 days
//! by default), and one more when it expires, each once per identity swapped in.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

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

/// Which warning the identity in use has had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    None,
    Window,
    Expired,
}

/// The counters of one identity, and the expiry warnings it gave.
#[derive(Debug)]
pub(crate) struct IdentityCounters {
    read: AtomicU64,
    invalid: AtomicU64,
    expired: AtomicU64,
    callback: AtomicU64,
    unfinished: AtomicU64,
    /// How long before its end the identity in use is warned of, in seconds.
    window: AtomicU64,
    /// The warning given for the identity ending at that time.
    warned: Mutex<(SystemTime, Stage)>,
    /// Looks started by refused handshakes, and when the last one started.
    refusal_checks: AtomicU64,
    last_refusal_check: Mutex<Option<Instant>>,
}

/// The least time between two looks started by refused handshakes, per identity.
const REFUSAL_CHECK_INTERVAL: Duration = Duration::from_secs(1);

impl IdentityCounters {
    pub(crate) fn new() -> Self {
        Self {
            read: AtomicU64::new(0),
            invalid: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            callback: AtomicU64::new(0),
            unfinished: AtomicU64::new(0),
            window: AtomicU64::new(DEFAULT_EXPIRY_WARNING.as_secs()),
            warned: Mutex::new((SystemTime::UNIX_EPOCH, Stage::None)),
            refusal_checks: AtomicU64::new(0),
            last_refusal_check: Mutex::new(None),
        }
    }

    /// A handshake was refused: whether a look may start now (none started within the last
    /// second), counted if so.
    pub(crate) fn start_refusal_check(&self) -> bool {
        let mut last = self
            .last_refusal_check
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < REFUSAL_CHECK_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        self.refusal_checks.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// A reload of identity `name` was refused with `err` (one still being written is not).
    pub(crate) fn rejected(&self, name: &str, err: &IdentityError) {
        let (counter, reason) = match err {
            IdentityError::Read { .. } => (&self.read, "read"),
            IdentityError::Expired { .. } => (&self.expired, "expired"),
            IdentityError::Callback { .. } => (&self.callback, "callback"),
            IdentityError::Unfinished { .. } => (&self.unfinished, "unfinished"),
            IdentityError::Changing { .. } => return,
            _ => (&self.invalid, "invalid"),
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

    /// Look at the identity in use (`name` from `source`, ending at `not_after`): warn once when
    /// it enters the window and once when it expires; set the facade's gauge.
    pub(crate) fn look(&self, name: &str, source: &dyn Display, not_after: SystemTime) {
        meter::identity_expiry(name, not_after);
        let now = SystemTime::now();
        let window = Duration::from_secs(self.window.load(Ordering::Relaxed));
        let stage = if not_after <= now {
            Stage::Expired
        } else if not_after <= now + window {
            Stage::Window
        } else {
            Stage::None
        };
        let mut warned = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        if warned.0 != not_after {
            // Another identity is in use: its warnings start afresh.
            *warned = (not_after, Stage::None);
        }
        if stage <= warned.1 {
            return;
        }
        warned.1 = stage;
        drop(warned);
        match stage {
            Stage::Expired => log::warn!(
                "client identity `{name}` from {source} expired at {}; servers that check client \
                 certificates refuse it: write a renewed certificate and key over the files (a \
                 watched identity picks them up)",
                Utc(not_after)
            ),
            _ => log::warn!(
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
