//! What a [`RootsCache`](crate::RootsCache) has done, counted: [`RootsStats`], a plain struct
//! read with [`RootsCache::stats`](crate::RootsCache::stats), and, with the `metrics` feature,
//! the same counters and gauges published through the [`metrics`](https://docs.rs/metrics)
//! facade that Prometheus and OpenTelemetry exporters plug into. The README's table lists the
//! names.
//!
//! Counters move at the event, on the thread that caused it (a caller's load or refresh, a
//! watcher's poll); gauges are set by a look at the store in use (each [`stats`] call, each
//! watcher poll), since the days until an anchor expires change with no event at all.
//!
//! [`stats`]: crate::RootsCache::stats

use std::sync::{OnceLock, PoisonError};
use std::time::{Instant, SystemTime};

use crate::load::error::NativeRootsErrorKind;
use crate::source::TrustOrigin;
use crate::sync::{AtomicU64, Mutex, Ordering};

/// What a cache has done since it was built, and the store in use (a snapshot; see
/// [`RootsCache::stats`](crate::RootsCache::stats)).
///
/// A load is one read of the trust source (the first load, a refresh, a watcher's reload, a
/// door of a cached failure), its retries counted once. Each failed load counts once under one
/// reason, whether it was the first (its error is then cached) or a reload refused while the
/// store in use stays.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RootsStats {
    /// Reads of the trust source.
    pub loads: u64,
    /// New anchor sets published after the first store (each advanced the generation).
    pub changes: u64,
    /// Loads refused because a file was cut short mid-certificate, or emptied, while a good store
    /// was in use ([`IncompleteFile`](NativeRootsErrorKind::IncompleteFile)): a torn write that
    /// outlasted the writer window.
    pub rejected_incomplete_file: u64,
    /// Loads that found no usable anchor ([`NoAnchors`](NativeRootsErrorKind::NoAnchors)).
    pub rejected_no_anchors: u64,
    /// Loads whose every attempt met a transient error
    /// ([`TransientExhausted`](NativeRootsErrorKind::TransientExhausted)).
    pub rejected_transient: u64,
    /// Loads that outlived the policy's deadline, or found the last one still stuck
    /// ([`Deadline`](NativeRootsErrorKind::Deadline),
    /// [`LoaderStuck`](NativeRootsErrorKind::LoaderStuck)).
    pub rejected_deadline: u64,
    /// Loads that failed otherwise: the source panicked, or strict mode refused an error.
    pub rejected_permanent: u64,
    /// When the store in use was published (the first store, or the last change); `None`
    /// before a store was.
    pub last_change: Option<SystemTime>,
    /// The anchors of the store in use (0 when none is).
    pub anchors: usize,
    /// Of those, the anchors whose certificate has expired. Webpki does not check an anchor's
    /// dates, but the CAs under it stopped issuing for it: see
    /// [`LoadPolicy::with_expiry_warning`](crate::LoadPolicy::with_expiry_warning).
    pub expired_anchors: usize,
    /// The earliest end of validity among the anchors not yet expired.
    pub next_expiry: Option<SystemTime>,
}

impl RootsStats {
    /// Every failed load, whatever the reason.
    pub fn rejected(&self) -> u64 {
        self.rejected_incomplete_file
            + self.rejected_no_anchors
            + self.rejected_transient
            + self.rejected_deadline
            + self.rejected_permanent
    }
}

/// Why a load was not published, as the `reason` label gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    IncompleteFile,
    NoAnchors,
    Transient,
    Deadline,
    Permanent,
}

impl Reason {
    fn of(kind: NativeRootsErrorKind) -> Self {
        match kind {
            NativeRootsErrorKind::IncompleteFile => Self::IncompleteFile,
            NativeRootsErrorKind::NoAnchors => Self::NoAnchors,
            NativeRootsErrorKind::TransientExhausted => Self::Transient,
            NativeRootsErrorKind::Deadline | NativeRootsErrorKind::LoaderStuck => Self::Deadline,
            _ => Self::Permanent,
        }
    }

    #[cfg(feature = "metrics")]
    fn label(self) -> &'static str {
        match self {
            Self::IncompleteFile => "incomplete_file",
            Self::NoAnchors => "no_anchors",
            Self::Transient => "transient",
            Self::Deadline => "deadline",
            Self::Permanent => "permanent",
        }
    }
}

/// The counters of one cache. The gauges are read from the store in use.
#[derive(Debug)]
pub(crate) struct Counters {
    loads: AtomicU64,
    changes: AtomicU64,
    incomplete_file: AtomicU64,
    no_anchors: AtomicU64,
    transient: AtomicU64,
    deadline: AtomicU64,
    permanent: AtomicU64,
    /// When the store in use was published.
    last_change: Mutex<Option<Instant>>,
}

macro_rules! counters_new {
    ($($const:tt)?) => {
        impl Counters {
            pub(crate) $($const)? fn new() -> Self {
                Self {
                    loads: AtomicU64::new(0),
                    changes: AtomicU64::new(0),
                    incomplete_file: AtomicU64::new(0),
                    no_anchors: AtomicU64::new(0),
                    transient: AtomicU64::new(0),
                    deadline: AtomicU64::new(0),
                    permanent: AtomicU64::new(0),
                    last_change: Mutex::new(None),
                }
            }
        }
    };
}

#[cfg(not(loom))]
counters_new!(const);
#[cfg(loom)]
counters_new!();

impl Counters {
    /// A read of the source begins (counted then, so that a load stuck past its deadline counts).
    pub(crate) fn load_started(&self) {
        self.loads.fetch_add(1, Ordering::Relaxed);
    }

    /// The read of the source from `origin` ended, for the facade (whose label is the origin).
    pub(crate) fn load_finished(&self, origin: &TrustOrigin) {
        facade::loaded(origin);
    }

    #[cfg(test)]
    pub(crate) fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// A store was published: the first (`changed` false) or a new anchor set.
    pub(crate) fn published(&self, origin: &TrustOrigin, changed: bool) {
        // The monotonic clock here (the wall clock is read only when the stats are), which keeps
        // the load's path free of a wall-clock read and Miri's isolation happy.
        *self
            .last_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        if changed {
            self.changes.fetch_add(1, Ordering::Relaxed);
        }
        facade::published(origin, changed);
    }

    /// A load from `origin` failed with `kind`.
    pub(crate) fn rejected(&self, origin: &TrustOrigin, kind: NativeRootsErrorKind) {
        let reason = Reason::of(kind);
        let counter = match reason {
            Reason::IncompleteFile => &self.incomplete_file,
            Reason::NoAnchors => &self.no_anchors,
            Reason::Transient => &self.transient,
            Reason::Deadline => &self.deadline,
            Reason::Permanent => &self.permanent,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        facade::rejected(origin, reason);
    }

    /// The counters, with no store in use.
    pub(crate) fn snapshot(&self) -> RootsStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let last_change = self
            .last_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(wall_clock);
        RootsStats {
            loads: read(&self.loads),
            changes: read(&self.changes),
            rejected_incomplete_file: read(&self.incomplete_file),
            rejected_no_anchors: read(&self.no_anchors),
            rejected_transient: read(&self.transient),
            rejected_deadline: read(&self.deadline),
            rejected_permanent: read(&self.permanent),
            last_change,
            anchors: 0,
            expired_anchors: 0,
            next_expiry: None,
        }
    }
}

/// The wall-clock time of `at`, through one pair of clock readings taken at the first call, so
/// that the same instant always gives the same time.
fn wall_clock(at: Instant) -> SystemTime {
    static ANCHOR: OnceLock<(Instant, SystemTime)> = OnceLock::new();
    let (instant, time) = *ANCHOR.get_or_init(|| (Instant::now(), SystemTime::now()));
    match at.checked_duration_since(instant) {
        Some(after) => time + after,
        None => time - instant.duration_since(at),
    }
}

/// Set the gauges of the store in use from `origin` to what `stats` says.
pub(crate) fn set_gauges(origin: &TrustOrigin, stats: &RootsStats) {
    facade::gauges(origin, stats);
}

/// The `metrics` facade's side: each event describes the names it uses, then records.
#[cfg(feature = "metrics")]
mod facade {
    use std::time::{SystemTime, UNIX_EPOCH};

    use metrics::{Unit, counter, describe_counter, describe_gauge, gauge};

    use super::{Reason, RootsStats};
    use crate::source::TrustOrigin;

    const LOADS: &str = "native_roots_loads_total";
    const CHANGES: &str = "native_roots_changes_total";
    const REJECTED: &str = "native_roots_rejected_loads_total";
    const LAST_CHANGE: &str = "native_roots_last_change_seconds";
    const ANCHORS: &str = "native_roots_anchors";
    const EXPIRED: &str = "native_roots_expired_anchors";
    const NEXT_EXPIRY: &str = "native_roots_next_expiry_days";

    /// Describe the names to the recorder in use, at each event: events are rare (a load, a poll),
    /// and a recorder installed late, or on one thread only, still hears them.
    fn describe() {
        describe_counter!(LOADS, "reads of the trust source (retries counted once)");
        describe_counter!(CHANGES, "new anchor sets published after the first store");
        describe_counter!(REJECTED, "loads not published, by reason");
        describe_gauge!(
            LAST_CHANGE,
            Unit::Seconds,
            "when the store in use was published (Unix time)"
        );
        describe_gauge!(ANCHORS, Unit::Count, "anchors in the store in use");
        describe_gauge!(EXPIRED, Unit::Count, "expired anchors in the store in use");
        describe_gauge!(
            NEXT_EXPIRY,
            "days until the earliest anchor not yet expired expires"
        );
    }

    fn origin_label(origin: &TrustOrigin) -> String {
        origin.to_string()
    }

    pub(super) fn loaded(origin: &TrustOrigin) {
        describe();
        counter!(LOADS, "origin" => origin_label(origin)).increment(1);
    }

    pub(super) fn published(origin: &TrustOrigin, changed: bool) {
        describe();
        // Registered at the first store too, so that a dashboard shows 0 rather than nothing.
        counter!(CHANGES, "origin" => origin_label(origin)).increment(u64::from(changed));
    }

    pub(super) fn rejected(origin: &TrustOrigin, reason: Reason) {
        describe();
        counter!(REJECTED, "origin" => origin_label(origin), "reason" => reason.label())
            .increment(1);
    }

    pub(super) fn gauges(origin: &TrustOrigin, stats: &RootsStats) {
        describe();
        let origin = origin_label(origin);
        let since_epoch = |at: SystemTime| {
            at.duration_since(UNIX_EPOCH)
                .map_or(0.0, |since| since.as_secs_f64())
        };
        if let Some(at) = stats.last_change {
            gauge!(LAST_CHANGE, "origin" => origin.clone()).set(since_epoch(at));
        }
        gauge!(ANCHORS, "origin" => origin.clone()).set(stats.anchors as f64);
        gauge!(EXPIRED, "origin" => origin.clone()).set(stats.expired_anchors as f64);
        if let Some(next) = stats.next_expiry {
            let days = (since_epoch(next) - since_epoch(SystemTime::now())) / 86_400.0;
            gauge!(NEXT_EXPIRY, "origin" => origin).set(days);
        }
    }
}

#[cfg(not(feature = "metrics"))]
mod facade {
    use super::{Reason, RootsStats};
    use crate::source::TrustOrigin;

    pub(super) fn loaded(_: &TrustOrigin) {}
    pub(super) fn published(_: &TrustOrigin, _: bool) {}
    pub(super) fn rejected(_: &TrustOrigin, _: Reason) {}
    pub(super) fn gauges(_: &TrustOrigin, _: &RootsStats) {}
}
